package dev.tornadonn.layers.quant;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.Shape;
import java.util.Objects;

/**
 * How the fp8 weight is scaled: TENSOR (one scale, {@code ()}), ROWWISE (one per output channel,
 * {@code (N, 1)}) or BLOCK {@code (bn, bk)} tiles ({@code (ceil(N/bn), ceil(K/bk))} scales, the
 * last tile in each direction may be partial). COLWISE weight scales are rejected, as in MAX.
 */
public record Float8WeightScaleSpec(Float8ScaleGranularity granularity, Float8BlockSize blockSize) {

    public Float8WeightScaleSpec {
        Objects.requireNonNull(granularity, "granularity");
        switch (granularity) {
            case TENSOR, ROWWISE -> {
                if (blockSize != null) {
                    throw new ConfigException("a " + granularity + " weight scale takes no block size, got " + blockSize);
                }
            }
            case BLOCK -> {
                if (blockSize == null) {
                    throw new ConfigException("a BLOCK weight scale needs a block size (bn, bk)");
                }
            }
            case COLWISE -> throw new ConfigException(
                    "weight scale granularity COLWISE (one scale per input column) is not supported: "
                            + "use TENSOR, ROWWISE or BLOCK");
        }
    }

    public static Float8WeightScaleSpec tensor() {
        return new Float8WeightScaleSpec(Float8ScaleGranularity.TENSOR, null);
    }

    public static Float8WeightScaleSpec rowwise() {
        return new Float8WeightScaleSpec(Float8ScaleGranularity.ROWWISE, null);
    }

    public static Float8WeightScaleSpec block(int bn, int bk) {
        return new Float8WeightScaleSpec(Float8ScaleGranularity.BLOCK, new Float8BlockSize(bn, bk));
    }

    /** The checkpoint shape of the scales for an {@code (n, k)} weight (TENSOR also accepts {@code (1,)}). */
    public Shape scaleShape(int n, int k) {
        return switch (granularity) {
            case TENSOR -> Shape.of();
            case ROWWISE -> Shape.of(n, 1);
            case BLOCK -> Shape.of(ceilDiv(n, blockSize.rows()), ceilDiv(k, blockSize.cols()));
            case COLWISE -> throw new AssertionError("rejected by the constructor");
        };
    }

    static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    @Override
    public String toString() {
        return granularity + (blockSize == null ? "" : " " + blockSize);
    }
}

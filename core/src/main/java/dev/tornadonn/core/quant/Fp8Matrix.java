package dev.tornadonn.core.quant;

import dev.tornadonn.core.numeric.Float8Format;
import java.util.Objects;

/**
 * An fp8 weight with its scales and the way inputs are quantised before the product:
 * {@code y[m, n] = Σ_k xq[m, k]·sx · wq[n, k]·sw} with each scale taken at its granularity.
 *
 * @param codes {@code rows × cols} fp8 bytes, row-major
 */
public record Fp8Matrix(int rows, int cols, Float8Format format, byte[] codes, Fp8WeightScale weightScale,
                        Fp8InputQuantization input) implements QuantizedMatrix {

    public Fp8Matrix {
        Objects.requireNonNull(format, "format");
        Objects.requireNonNull(codes, "codes");
        Objects.requireNonNull(weightScale, "weightScale");
        Objects.requireNonNull(input, "input");
        if (rows <= 0 || cols <= 0 || codes.length != (long) rows * cols) {
            throw new IllegalArgumentException("codes must hold rows × cols = " + rows + " × " + cols + " bytes");
        }
        int count = switch (weightScale) {
            case Fp8WeightScale.PerTensor t -> 1;
            case Fp8WeightScale.PerRow r -> r.scales().length;
            case Fp8WeightScale.Block b -> b.scales().length;
        };
        if (count != weightScale.expectedCount(rows, cols)) {
            throw new IllegalArgumentException("a " + rows + " × " + cols + " weight needs "
                    + weightScale.expectedCount(rows, cols) + " scales for " + weightScale.getClass().getSimpleName()
                    + ", got " + count);
        }
    }
}

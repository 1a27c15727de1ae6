package dev.tornadonn.core.weights;

import dev.tornadonn.core.ConfigException;
import java.util.Objects;

/**
 * How an int8 weight is scaled: one scale for the tensor, or one per output channel (row).
 * compressed-tensors' W8A8 weights are symmetric, so there is no weight zero point.
 */
public sealed interface Int8WeightScale {

    /** The multiplier of output row {@code n}. */
    float scale(int n);

    /** How many scales a weight of {@code rows} rows needs. */
    int expectedCount(int rows);

    /** The scales of {@code rows[0], rows[1], ...}. */
    Int8WeightScale select(int[] rows);

    /** A few words for messages, e.g. {@code per channel}. */
    default String describe() {
        return switch (this) {
            case PerTensor t -> "per tensor";
            case PerChannel c -> "per channel";
        };
    }

    record PerTensor(float scale) implements Int8WeightScale {
        public PerTensor {
            check(scale, 0);
        }

        @Override
        public float scale(int n) {
            return scale;
        }

        @Override
        public int expectedCount(int rows) {
            return 1;
        }

        @Override
        public PerTensor select(int[] rows) {
            return this;
        }
    }

    /** {@code scales[n]} for output row n. */
    record PerChannel(float[] scales) implements Int8WeightScale {
        public PerChannel {
            Objects.requireNonNull(scales, "scales");
            for (int n = 0; n < scales.length; n++) {
                check(scales[n], n);
            }
        }

        @Override
        public float scale(int n) {
            return scales[n];
        }

        @Override
        public int expectedCount(int rows) {
            return rows;
        }

        @Override
        public PerChannel select(int[] rows) {
            float[] out = new float[rows.length];
            for (int j = 0; j < rows.length; j++) {
                out[j] = scales[rows[j]];
            }
            return new PerChannel(out);
        }
    }

    /** Zero is allowed: calibration gives it to an all-zero row. */
    private static void check(float scale, int at) {
        if (!(scale >= 0) || !Float.isFinite(scale)) {
            throw new ConfigException("int8 weight scale " + at + " must be finite and >= 0, got " + scale);
        }
    }
}

package dev.tornadonn.core.weights;

import dev.tornadonn.core.ConfigException;
import java.util.Objects;

/** How an fp8 weight is scaled: one scale, one per output row, or one per (bn × bk) block. */
public sealed interface Fp8WeightScale {

    /** The multiplier of weight {@code (n, k)}; {@code cols} is K. */
    float scale(int n, int k, int cols);

    /** The k-extent of one scale, or 0 when a scale spans the whole row. */
    default int blockCols() {
        return 0;
    }

    /** How many scales a {@code rows × cols} weight needs. */
    long expectedCount(int rows, int cols);

    /** A few words for messages, e.g. {@code per row}. */
    default String describe() {
        return switch (this) {
            case PerTensor t -> "per tensor";
            case PerRow r -> "per row";
            case Block b -> "blocks of " + b.blockRows() + " x " + b.blockCols();
        };
    }

    record PerTensor(float scale) implements Fp8WeightScale {
        @Override
        public float scale(int n, int k, int cols) {
            return scale;
        }

        @Override
        public long expectedCount(int rows, int cols) {
            return 1;
        }
    }

    /** {@code scales[n]} for output row n. */
    record PerRow(float[] scales) implements Fp8WeightScale {
        public PerRow {
            Objects.requireNonNull(scales, "scales");
        }

        @Override
        public float scale(int n, int k, int cols) {
            return scales[n];
        }

        @Override
        public long expectedCount(int rows, int cols) {
            return rows;
        }
    }

    /** {@code scales[⌊n/bn⌋ · ceil(K/bk) + ⌊k/bk⌋]}; the last block in each direction may be partial. */
    record Block(int blockRows, int blockCols, float[] scales) implements Fp8WeightScale {
        public Block {
            Objects.requireNonNull(scales, "scales");
            if (blockRows <= 0 || blockCols <= 0) {
                throw new ConfigException("block sizes must be positive, got " + blockRows + " x " + blockCols);
            }
        }

        @Override
        public float scale(int n, int k, int cols) {
            return scales[n / blockRows * ((cols + blockCols - 1) / blockCols) + k / blockCols];
        }

        @Override
        public long expectedCount(int rows, int cols) {
            return (long) ((rows + blockRows - 1) / blockRows) * ((cols + blockCols - 1) / blockCols);
        }
    }
}

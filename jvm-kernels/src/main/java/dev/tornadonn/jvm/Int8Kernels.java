package dev.tornadonn.jvm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The integer side of the int8 product, scalar or vector: weight codes times x codes summed
 * exactly (int8·int8 fits 16 bits; sums are kept in ints over chunks that cannot overflow, and
 * in longs across them). The scales are the caller's, applied once per output.
 */
interface Int8Kernels {
    /** Weight rows per {@link #rowsTimesX} call, sharing each load of x. */
    int ROWS = 8;

    /**
     * {@code out[r] = Σ_k xq[xo + k]·w[n + r, k]} for r below {@code count} (at most
     * {@link #ROWS}), exactly.
     */
    void rowsTimesX(Int8Layout w, int n, int count, short[] xq, int xo, long[] out);

    /** Plain loops. */
    final class Scalar implements Int8Kernels {
        @Override
        public void rowsTimesX(Int8Layout w, int n, int count, short[] xq, int xo, long[] out) {
            int k = w.cols();
            MemorySegment codes = w.codes();
            for (int r = 0; r < count; r++) {
                long base = (long) (n + r) * k;
                long sum = 0;
                for (int c = 0; c < k; c++) {
                    sum += xq[xo + c] * codes.get(ValueLayout.JAVA_BYTE, base + c);
                }
                out[r] = sum;
            }
        }
    }
}

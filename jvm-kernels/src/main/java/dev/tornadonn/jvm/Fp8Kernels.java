package dev.tornadonn.jvm;

import dev.tornadonn.core.numeric.Float8Format;

/**
 * The weight side of the fp8 product, scalar or vector. Two ways through a weight row: decode it
 * to floats and dot segments of it with quantised x (many rows of x share one decode), or
 * {@link #rowsTimesX}, which decodes inside the dot product and stores nothing (a few rows of x).
 */
interface Fp8Kernels {
    /** Weight rows per {@link #rowsTimesX} call. */
    int ROWS = 8;

    /** Row {@code n} of {@code w}'s codes, decoded exactly, into {@code out[0 .. cols)}. */
    default void decodeRow(Fp8Layout w, int n, float[] out) {
        decodeColumns(w, n, 0, w.cols(), out, 0);
    }

    /** Columns {@code [from, from + len)} of row {@code n}'s codes, decoded exactly, into {@code out[at ..]}. */
    void decodeColumns(Fp8Layout w, int n, int from, int len, float[] out, int at);

    /** x's {@code m} rows quantised as {@link Fp8Activations#quantise} does, bit for bit. */
    default void quantiseInput(float[] x, int m, Fp8Layout w, float[] xq, float[] sx) {
        Fp8Activations.quantise(x, m, w, xq, sx);
    }

    /** {@code Σ a[ao + i]·b[bo + i]} for i below len, accumulated in f32. */
    float dot(float[] a, int ao, float[] b, int bo, int len);

    /**
     * The {@code m} quantised x rows ({@code cols} each) as {@link #rowsTimesX} reads them for
     * {@code w}: {@code xq} itself, or the calling thread's scratch, valid until its next call.
     */
    float[] arrangeInput(Fp8Layout w, float[] xq, int m);

    /**
     * {@code out[r] = Σ_s (Σ_{k∈s} xq[k]·w[n + r, k])·sx[so + s]·ws[n + r, s]} for r below
     * {@code count} (at most {@link #ROWS}), with x row {@code xq[xo ..]}, arranged as
     * {@code xa[xo ..]} by {@link #arrangeInput}; only for a layout without specials.
     */
    void rowsTimesX(Fp8Layout w, int n, int count, float[] xa, float[] xq, int xo, float[] sx, int so, float[] out);

    /**
     * Writes row {@code n}'s subnormal weights in columns {@code [from, from + len)}, exactly, over
     * their zeroed codes' values in {@code out[at ..]}.
     */
    static void patchSubnormals(Fp8Layout w, int n, int from, int len, float[] out, int at) {
        for (int i = w.subnormalStart()[n]; i < w.subnormalStart()[n + 1]; i++) {
            int c = w.subnormalColumns()[i];
            if (c >= from && c < from + len) {
                out[at + c - from] = w.subnormalValues()[i];
            }
        }
    }

    /** Decodes by the 256-entry table. */
    final class Scalar implements Fp8Kernels {
        private static final float[] E4M3FN = Float8Format.E4M3FN.decodeTable();
        private static final float[] E5M2 = Float8Format.E5M2.decodeTable();

        @Override
        public void decodeColumns(Fp8Layout w, int n, int from, int len, float[] out, int at) {
            float[] table = w.format() == Float8Format.E4M3FN ? E4M3FN : E5M2;
            java.lang.foreign.MemorySegment codes = w.codes();
            long base = (long) n * w.cols() + from;
            for (int c = 0; c < len; c++) {
                out[at + c] = table[codes.get(java.lang.foreign.ValueLayout.JAVA_BYTE, base + c) & 0xFF];
            }
            patchSubnormals(w, n, from, len, out, at);
        }

        @Override
        public float dot(float[] a, int ao, float[] b, int bo, int len) {
            float s = 0f;
            for (int i = 0; i < len; i++) {
                s += a[ao + i] * b[bo + i];
            }
            return s;
        }

        private static final Scratch.Key ROW = Scratch.key("an fp8 weight row decoded, in the scalar GEMV");

        @Override
        public float[] arrangeInput(Fp8Layout w, float[] xq, int m) {
            return xq;
        }

        @Override
        public void rowsTimesX(Fp8Layout w, int n, int count, float[] xa, float[] xq, int xo, float[] sx, int so,
                               float[] out) {
            float[] row = Scratch.current().floats(ROW, w.cols());
            int segs = w.segments();
            int[] start = w.segmentStart();
            for (int r = 0; r < count; r++) {
                decodeRow(w, n + r, row);
                float acc = 0f;
                for (int s = 0; s < segs; s++) {
                    float partial = dot(xa, xo + start[s], row, start[s], start[s + 1] - start[s]);
                    acc += partial * (sx[so + s] * w.weightScales()[(n + r) * segs + s]);
                }
                out[r] = acc;
            }
        }
    }
}

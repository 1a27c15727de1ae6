package dev.tornadonn.jvm;

import dev.tornadonn.core.numeric.Float8Format;

/**
 * The weight side of the fp8 product, scalar or vector: decode one weight row to floats (the
 * fused dequantisation, a row at a time) and dot a segment of it with quantised x.
 */
interface Fp8Kernels {

    /** Row {@code n} of {@code w}'s codes, decoded exactly, into {@code out[0 .. cols)}. */
    void decodeRow(Fp8Layout w, int n, float[] out);

    /** {@code Σ a[ao + i]·b[bo + i]} for i below len, accumulated in f32. */
    float dot(float[] a, int ao, float[] b, int bo, int len);

    /** Decodes by the 256-entry table. */
    final class Scalar implements Fp8Kernels {
        private static final float[] E4M3FN = Float8Format.E4M3FN.decodeTable();
        private static final float[] E5M2 = Float8Format.E5M2.decodeTable();

        @Override
        public void decodeRow(Fp8Layout w, int n, float[] out) {
            float[] table = w.format() == Float8Format.E4M3FN ? E4M3FN : E5M2;
            byte[] codes = w.codes();
            int k = w.cols();
            int base = n * k;
            for (int c = 0; c < k; c++) {
                out[c] = table[codes[base + c] & 0xFF];
            }
        }

        @Override
        public float dot(float[] a, int ao, float[] b, int bo, int len) {
            float s = 0f;
            for (int i = 0; i < len; i++) {
                s += a[ao + i] * b[bo + i];
            }
            return s;
        }
    }
}

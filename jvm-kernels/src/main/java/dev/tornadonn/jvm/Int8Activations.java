package dev.tornadonn.jvm;

import dev.tornadonn.core.weights.Int8InputQuantization;

/**
 * x quantised to int8 codes before the integer product, row by row, in f32 as vLLM's
 * {@code scaled_int8_quant} computes it (docs/INT8.md): {@code xq = clamp(rne(x·(1/s)) + z)},
 * except the static symmetric kernel's {@code x / s}. Codes are held widened to 16 bits, as the
 * kernels multiply them. A row holding NaN or ±∞ gets a NaN scale, so its outputs are NaN. The x
 * side is O(M·K), cheap next to the O(N·K) weight side.
 *
 * @param codes      {@code m × cols} int8 codes
 * @param scales     each row's {@code s}
 * @param zeroPoints each row's {@code z}
 */
record Int8Activations(short[] codes, float[] scales, long[] zeroPoints) {

    static Int8Activations quantise(float[] x, int m, int k, Int8InputQuantization q) {
        Int8Activations a = new Int8Activations(new short[Math.multiplyExact(m, k)], new float[m], new long[m]);
        quantise(x, m, k, q, a.codes, a.scales, a.zeroPoints);
        return a;
    }

    /** Into the caller's arrays (at least {@code m × k} codes and {@code m} scales and zero points): no allocation. */
    static void quantise(float[] x, int m, int k, Int8InputQuantization q, short[] codes, float[] scales, long[] zeros) {
        for (int i = 0; i < m; i++) {
            scales[i] = 0f;
            zeros[i] = 0;
            int from = i * k;
            int to = from + k;
            if (!finite(x, from, to)) {
                scales[i] = Float.NaN;
                continue;
            }
            switch (q) {
                case Int8InputQuantization.Static s -> {
                    for (int c = from; c < to; c++) {
                        codes[c] = clamp(Math.rint(x[c] / s.scale()));
                    }
                    scales[i] = s.scale();
                }
                case Int8InputQuantization.StaticAsymmetric s -> {
                    scales[i] = s.scale();
                    zeros[i] = s.zeroPoint();
                    asymmetric(x, from, to, 1f / s.scale(), s.zeroPoint(), codes);
                }
                case Int8InputQuantization.DynamicPerToken d -> scales[i] = perToken(x, from, to, codes);
                case Int8InputQuantization.DynamicPerTokenAsymmetric d -> {
                    float min = Float.POSITIVE_INFINITY;
                    float max = Float.NEGATIVE_INFINITY;
                    for (int c = from; c < to; c++) {
                        min = Math.min(min, x[c]);
                        max = Math.max(max, x[c]);
                    }
                    float s = (max - min) / 255f;
                    double z = Math.rint(-128f - min / s);
                    if (s > 0 && Float.isFinite(s) && Math.abs(z) <= Integer.MAX_VALUE) {
                        scales[i] = s;
                        zeros[i] = (long) z;
                        asymmetric(x, from, to, 1f / s, (long) z, codes);
                    } else { // a constant row, a span beyond f32, or a zero point beyond vLLM's int32
                        scales[i] = perToken(x, from, to, codes);
                    }
                }
            }
        }
    }

    /** {@code s = max|x| / 127}, {@code xq = rne(x·(127 / max|x|))}; a zero row gives zeros and s = 0. */
    private static float perToken(float[] x, int from, int to, short[] codes) {
        float amax = 0f;
        for (int c = from; c < to; c++) {
            amax = Math.max(amax, Math.abs(x[c]));
        }
        float inv = amax == 0f ? 0f : 127f / amax;
        for (int c = from; c < to; c++) {
            codes[c] = clamp(Math.rint(x[c] * inv));
        }
        return amax / 127f;
    }

    /** vLLM rounds to an int32 first, where 0·∞ (a subnormal scale's 1/s) becomes 0; here the sum cannot wrap. */
    private static void asymmetric(float[] x, int from, int to, float inv, long z, short[] codes) {
        for (int c = from; c < to; c++) {
            double r = Math.rint(x[c] * inv);
            codes[c] = clamp((Double.isNaN(r) ? 0 : r) + z);
        }
    }

    /** Saturates to int8; the argument is an integer or ±∞ (NaN, from 0·∞, becomes 0 as CUDA's cvt.sat makes it). */
    private static short clamp(double v) {
        return (short) Math.max(-128, Math.min(127, v));
    }

    private static boolean finite(float[] x, int from, int to) {
        for (int c = from; c < to; c++) {
            if (!Float.isFinite(x[c])) {
                return false;
            }
        }
        return true;
    }
}

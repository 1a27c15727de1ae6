package dev.tornadonn.reference;

import dev.tornadonn.layers.quant.Int8Scheme;

/**
 * The int8 W8A8 linear in exact arithmetic. x is quantised exactly as docs/INT8.md specifies (in
 * f32, as vLLM's {@code scaled_int8_quant}: static {@code rne(x / s)}, or {@code rne(x·(1/s)) + z}
 * when asymmetric; dynamic per row {@code s = max|x| / 127}, {@code xq = rne(x·(127 / max|x|))},
 * or {@code s = (max − min) / 255}, {@code z = rne(−128 − min / s)}, {@code xq = rne(x·(1/s)) + z},
 * with the symmetric rule for a row whose span is 0 or beyond f32; always saturated to
 * [−128, 127]), then {@code y = Σ ((xq − z)·s)·(wq·sw) + b} in double. A row of x holding NaN
 * or ±∞ gives NaN.
 */
public final class Int8Oracle {
    private Int8Oracle() {}

    /**
     * @param staticScale the checkpoint's input scale (ignored for dynamic inputs)
     * @param staticZero  its input zero point (static asymmetric inputs only)
     * @param wq          {@code n × k} int8 weight codes
     * @param wScales     one scale, or one per output row
     * @param bias        {@code n} or null
     */
    public static double[] linear(float[] x, int m, int k, Int8Scheme scheme, float staticScale, int staticZero,
                                  byte[] wq, int n, float[] wScales, double[] bias) {
        double[] xd = quantiseInput(x, m, k, scheme, staticScale, staticZero);
        double[] wd = new double[n * k];
        for (int j = 0; j < n; j++) {
            double s = wScales.length == 1 ? wScales[0] : wScales[j];
            for (int c = 0; c < k; c++) {
                wd[j * k + c] = wq[j * k + c] * s;
            }
        }
        return Oracle.linear(xd, m, k, wd, n, bias);
    }

    /** {@code (xq − z)·s} per element, in double. */
    public static double[] quantiseInput(float[] x, int m, int k, Int8Scheme scheme, float staticScale, int staticZero) {
        double[] out = new double[m * k];
        for (int i = 0; i < m; i++) {
            Row row = row(x, i * k, k, scheme, staticScale, staticZero);
            for (int c = 0; c < k; c++) {
                float v = x[i * k + c];
                double q = switch (row.rule) {
                    case DIVIDE -> Math.rint(v / row.scale);
                    case MULTIPLY -> Math.rint(v * row.inverse);
                    case NOT_FINITE -> Double.NaN;
                };
                // CUDA's saturating conversion reads NaN (0·∞ when 1/s overflows) as 0.
                q = Double.isNaN(q) && row.rule != Rule.NOT_FINITE ? 0 : q;
                double code = Math.max(-128, Math.min(127, q + row.zero));
                out[i * k + c] = row.rule == Rule.NOT_FINITE ? Double.NaN : (code - row.zero) * row.scale;
            }
        }
        return out;
    }

    private enum Rule { DIVIDE, MULTIPLY, NOT_FINITE }

    /** One row's quantisation: its scale s, 1/s as used, its zero point and how x meets the scale. */
    private record Row(float scale, float inverse, double zero, Rule rule) {}

    private static Row row(float[] x, int from, int k, Int8Scheme scheme, float staticScale, int staticZero) {
        float amax = 0f;
        float min = Float.POSITIVE_INFINITY;
        float max = Float.NEGATIVE_INFINITY;
        for (int c = from; c < from + k; c++) {
            if (!Float.isFinite(x[c])) {
                return new Row(Float.NaN, Float.NaN, 0, Rule.NOT_FINITE);
            }
            amax = Math.max(amax, Math.abs(x[c]));
            min = Math.min(min, x[c]);
            max = Math.max(max, x[c]);
        }
        if (scheme.isStatic()) {
            return scheme.symmetricInput() ? new Row(staticScale, Float.NaN, 0, Rule.DIVIDE)
                    : new Row(staticScale, 1f / staticScale, staticZero, Rule.MULTIPLY);
        }
        if (!scheme.symmetricInput()) {
            float s = (max - min) / 255f;
            double z = Math.rint(-128f - min / s);
            if (s > 0 && s < Float.POSITIVE_INFINITY && Math.abs(z) < 0x1p31) {
                return new Row(s, 1f / s, z, Rule.MULTIPLY);
            }
        }
        return new Row(amax / 127f, amax == 0f ? 0f : 127f / amax, 0, Rule.MULTIPLY);
    }
}

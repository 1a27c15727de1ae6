package dev.tornadonn.twins;

import static dev.tornadonn.twins.KernelGeometry.GEMV_THREADS;

/**
 * The int8 input kernel run in plain Java, barrier phase by barrier phase, as the device runs it
 * ({@code dev.tornadonn.tornado.InputKernels#int8Quantise}): one {@code GEMV_THREADS}-wide
 * work-group per row of x. Its work-items reduce the row's max, min and poison (the sum of
 * {@code v − v}: 0, or NaN when the row holds NaN or ±∞), then each quantises its slice of the row
 * as docs/INT8.md and the JVM backend do it, in f32 to the bit: {@code q = clamp(rne(x / s))} for
 * static symmetric inputs, {@code q = clamp(rne(x·inv) + z)} otherwise, and writes
 * {@code xq = (q − z)·s}, which the GEMV and GEMM then read as their x. A row holding NaN or ±∞
 * gets a NaN scale, so its outputs are NaN.
 *
 * <p>The row's scale s, zero point z and inverse inv come from the static helpers below, which
 * the device kernel calls too: {@link #rowMode} picks the rule (an asymmetric dynamic row whose
 * span is 0, or too wide for f32, or whose zero point would not fit an int32, is quantised per
 * token, symmetrically), then {@link #rowScale}, {@link #rowZero} and {@link #rowInverse}.
 */
public final class Int8InputTwin {
    private Int8InputTwin() {}

    public static void run(float[] x, int m, QuantLayout w, float[] xq) {
        int k = w.cols();
        float[] hiRed = new float[GEMV_THREADS];
        float[] loRed = new float[GEMV_THREADS];
        float[] poisonRed = new float[GEMV_THREADS];
        for (int row = 0; row < m; row++) {
            for (int lid = 0; lid < GEMV_THREADS; lid++) {
                float hi = -Float.MAX_VALUE;
                float lo = Float.MAX_VALUE;
                float poison = 0.0f;
                for (int i = lid; i < k; i += GEMV_THREADS) {
                    float v = x[row * k + i];
                    poison = poison + (v - v);
                    hi = v > hi ? v : hi;
                    lo = v < lo ? v : lo;
                }
                hiRed[lid] = hi;
                loRed[lid] = lo;
                poisonRed[lid] = poison;
            }
            for (int stride = GEMV_THREADS / 2; stride > 0; stride >>= 1) {
                for (int lid = 0; lid < stride; lid++) {
                    hiRed[lid] = hiRed[lid + stride] > hiRed[lid] ? hiRed[lid + stride] : hiRed[lid];
                    loRed[lid] = loRed[lid + stride] < loRed[lid] ? loRed[lid + stride] : loRed[lid];
                    poisonRed[lid] = poisonRed[lid] + poisonRed[lid + stride];
                }
            }
            for (int lid = 0; lid < GEMV_THREADS; lid++) {
                float hi = hiRed[0];
                float lo = loRed[0];
                int mode = rowMode(w.inputMode(), hi, lo);
                float s = rowScale(mode, w.staticScale(), hi, lo);
                float z = rowZero(mode, w.staticZero(), hi, lo);
                float inv = rowInverse(mode, s, hi, lo);
                float out = s + poisonRed[0];
                for (int i = lid; i < k; i += GEMV_THREADS) {
                    int q = code(mode, x[row * k + i], s, inv, z);
                    xq[row * k + i] = (q - z) * out;
                }
            }
        }
    }

    /**
     * The rule for a row of max {@code hi} and min {@code lo}: the layer's mode, except an
     * asymmetric dynamic row that cannot be quantised asymmetrically, which is quantised per
     * token (symmetrically, {@code QuantDecode.INPUT_TOKEN}).
     */
    public static int rowMode(int mode, float hi, float lo) {
        int r = mode;
        if (mode == QuantDecode.INPUT_TOKEN_ASYMMETRIC) {
            float s = (hi - lo) / 255.0f;
            float z = QuantDecode.roundHalfEven(-128.0f - lo / s);
            if (!(s > 0.0f && s <= Float.MAX_VALUE && Math.abs(z) < 2147483648.0f)) {
                r = QuantDecode.INPUT_TOKEN;
            }
        }
        return r;
    }

    /** The row's scale s: static, {@code max|x| / 127}, or {@code (max − min) / 255}. */
    public static float rowScale(int mode, float staticScale, float hi, float lo) {
        float s = staticScale;
        if (mode == QuantDecode.INPUT_TOKEN) {
            s = absMax(hi, lo) / 127.0f;
        } else if (mode == QuantDecode.INPUT_TOKEN_ASYMMETRIC) {
            s = (hi - lo) / 255.0f;
        }
        return s;
    }

    /** The row's zero point z: the static one, {@code rne(−128 − min / s)}, or 0 for symmetric rows. */
    public static float rowZero(int mode, float staticZero, float hi, float lo) {
        float z = 0.0f;
        if (mode == QuantDecode.INPUT_STATIC_ASYMMETRIC) {
            z = staticZero;
        } else if (mode == QuantDecode.INPUT_TOKEN_ASYMMETRIC) {
            float s = (hi - lo) / 255.0f;
            z = QuantDecode.roundHalfEven(-128.0f - lo / s);
        }
        return z;
    }

    /**
     * What x is multiplied by: {@code 127 / max|x|} per token (0 for a zero row), {@code 1 / s}
     * when asymmetric; unused for static symmetric inputs, which divide by s.
     */
    public static float rowInverse(int mode, float s, float hi, float lo) {
        float inv = 0.0f;
        if (mode == QuantDecode.INPUT_TOKEN) {
            float a = absMax(hi, lo);
            if (a != 0.0f) {
                inv = 127.0f / a;
            }
        } else if (mode != QuantDecode.INPUT_STATIC) {
            inv = 1.0f / s;
        }
        return inv;
    }

    /** The int8 code of {@code v}: {@code clamp(rne(v / s))} for static symmetric inputs, else {@code clamp(rne(v·inv) + z)}. */
    public static int code(int mode, float v, float s, float inv, float z) {
        float t;
        if (mode == QuantDecode.INPUT_STATIC) {
            t = v / s;
        } else {
            t = v * inv;
        }
        return QuantDecode.int8Code(QuantDecode.roundHalfEven(t), z);
    }

    /** {@code max|x|} of a row from its max and min (0 for a row of zeros). */
    private static float absMax(float hi, float lo) {
        float a = 0.0f;
        if (hi > a) {
            a = hi;
        }
        if (-lo > a) {
            a = -lo;
        }
        return a;
    }
}

package dev.tornadonn.twins;

import dev.tornadonn.core.Activation;

/**
 * The activations as device kernels evaluate them, in f32, split around the one transcendental
 * call so that the kernel supplies {@code exp} from its device's math library and the twin from
 * {@link Math}: {@code finish(act, v, exp(argument(act, v)))}.
 *
 * <p>The exp argument is never positive, so no step overflows to infinity: kernels may be compiled
 * with finite-math assumptions, and {@code v / (1 + ∞)} is not safe there. The logistic family
 * uses {@code σ(w) = 1/(1+e^{-|w|})} or {@code e^{-|w|}/(1+e^{-|w|})} by the sign of w.
 *
 * <p>GELU uses erfc's rational Chebyshev approximation (Numerical Recipes' {@code erfcc},
 * fractional error below 1.2e-7) since OpenCL's erf is not reachable from Java kernels.
 */
public final class KernelActivation {
    public static final int NONE = 0;
    public static final int SILU = 1;
    public static final int GELU = 2;
    public static final int GELU_TANH = 3;
    public static final int RELU = 4;
    public static final int TANH = 5;
    public static final int SIGMOID = 6;
    public static final int QUICK_GELU = 7;

    private static final float INV_SQRT2 = 0.70710678118654752f;
    private static final float SQRT_2_OVER_PI = 0.7978845608028654f;
    /** Below this |v|, tanh's series is used: 1 - e^{-2|v|} would cancel. */
    private static final float TANH_SERIES_LIMIT = 0.0625f;

    private KernelActivation() {}

    public static int code(Activation act) {
        return switch (act) {
            case SILU -> SILU;
            case GELU -> GELU;
            case GELU_TANH -> GELU_TANH;
            case RELU -> RELU;
            case TANH -> TANH;
            case SIGMOID -> SIGMOID;
            case QUICK_GELU -> QUICK_GELU;
        };
    }

    /** The argument of the one {@code exp} the activation needs (0 when it needs none); never positive. */
    public static float argument(int act, float v) {
        float a = 0.0f;
        if (act == SILU || act == SIGMOID) {
            a = -Math.abs(v);
        } else if (act == QUICK_GELU) {
            a = -1.702f * Math.abs(v);
        } else if (act == GELU_TANH) {
            a = -2.0f * SQRT_2_OVER_PI * Math.abs(v + 0.044715f * v * v * v);
        } else if (act == TANH) {
            a = -2.0f * Math.abs(v);
        } else if (act == GELU) {
            float z = Math.abs(v) * INV_SQRT2;
            float t = 1.0f / (1.0f + 0.5f * z);
            a = -z * z - 1.26551223f + t * (1.00002368f + t * (0.37409196f + t * (0.09678418f
                    + t * (-0.18628806f + t * (0.27886807f + t * (-1.13520398f + t * (1.48851587f
                    + t * (-0.82215223f + t * 0.17087277f))))))));
        }
        return a;
    }

    /** The activation of {@code v}, given {@code e = exp(argument(act, v))}. */
    public static float finish(int act, float v, float e) {
        float r = v;
        if (act == SILU || act == QUICK_GELU || act == GELU_TANH) {
            // v·σ(w), w of v's sign: e = e^{-|w|}
            r = v < 0.0f ? v * e / (1.0f + e) : v / (1.0f + e);
        } else if (act == SIGMOID) {
            r = v < 0.0f ? e / (1.0f + e) : 1.0f / (1.0f + e);
        } else if (act == RELU) {
            r = v > 0.0f ? v : (v == v ? 0.0f : v);
        } else if (act == TANH) {
            float av = Math.abs(v);
            float t;
            if (av < TANH_SERIES_LIMIT) {
                float s = av * av;
                t = av * (1.0f + s * (-1.0f / 3.0f + s * (2.0f / 15.0f + s * (-17.0f / 315.0f))));
            } else {
                t = (1.0f - e) / (1.0f + e);
            }
            r = v < 0.0f ? -t : (v == v ? t : v);
        } else if (act == GELU) {
            // erfc(-v/√2) = 2 - erfc(|v|/√2) for v > 0; the approximation gives erfc(|v|/√2) = t·e.
            float z = Math.abs(v) * INV_SQRT2;
            float t = 1.0f / (1.0f + 0.5f * z);
            float tail = t * e;
            float erfcMinus = v > 0.0f ? 2.0f - tail : tail;
            r = 0.5f * v * erfcMinus;
        }
        return r;
    }
}

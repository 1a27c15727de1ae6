package dev.tornadonn.core.weights;

import dev.tornadonn.core.ConfigException;

/**
 * How inputs become int8 codes before the integer product, as vLLM's {@code scaled_int8_quant}
 * computes them in f32 (docs/INT8.md): {@code xq = clamp(rne(x·(1/s)) + z, −128, 127)} with
 * round-half-to-even, and the layer computes {@code s · Σ (xq − z)·w}. Symmetric schemes have
 * {@code z = 0}. A row of x holding NaN or ±∞ gives NaN outputs.
 */
public sealed interface Int8InputQuantization {

    /** Whether the zero point is always 0. */
    boolean symmetric();

    /** Whether the scale is computed from each row of x rather than read from the checkpoint. */
    default boolean dynamic() {
        return this instanceof DynamicPerToken || this instanceof DynamicPerTokenAsymmetric;
    }

    /** A few words for messages, e.g. {@code dynamic per token, asymmetric}. */
    default String describe() {
        return switch (this) {
            case Static s -> "static";
            case StaticAsymmetric s -> "static, asymmetric";
            case DynamicPerToken t -> "dynamic per token";
            case DynamicPerTokenAsymmetric t -> "dynamic per token, asymmetric";
        };
    }

    /** The checkpoint's {@code input_scale}: {@code xq = clamp(rne(x / s))}, f32 division as vLLM's static kernel. */
    record Static(float scale) implements Int8InputQuantization {
        public Static {
            checkScale(scale);
        }

        @Override
        public boolean symmetric() {
            return true;
        }
    }

    /**
     * The checkpoint's {@code input_scale} and {@code input_zero_point}:
     * {@code xq = clamp(rne(x·(1/s)) + z)}.
     */
    record StaticAsymmetric(float scale, int zeroPoint) implements Int8InputQuantization {
        public StaticAsymmetric {
            checkScale(scale);
            if (zeroPoint < -128 || zeroPoint > 127) {
                throw new ConfigException("an int8 input zero point lies in [-128, 127], got " + zeroPoint);
            }
        }

        @Override
        public boolean symmetric() {
            return false;
        }
    }

    /** Per row of x: {@code s = max|x| / 127}, {@code xq = clamp(rne(x·(127 / max|x|)))}; a zero row gives zeros. */
    record DynamicPerToken() implements Int8InputQuantization {
        @Override
        public boolean symmetric() {
            return true;
        }
    }

    /**
     * Per row of x: {@code s = (max − min) / 255}, {@code z = rne(−128 − min / s)},
     * {@code xq = clamp(rne(x·(1/s)) + z)}. A row whose span is 0, or too wide for f32, is
     * quantised as {@link DynamicPerToken} quantises it (vLLM divides by that zero scale).
     */
    record DynamicPerTokenAsymmetric() implements Int8InputQuantization {
        @Override
        public boolean symmetric() {
            return false;
        }
    }

    private static void checkScale(float scale) {
        if (!(scale > 0) || !Float.isFinite(scale)) {
            throw new ConfigException("a static int8 input scale must be finite and > 0, got " + scale);
        }
    }
}

package dev.tornadonn.core;

import dev.tornadonn.core.numeric.ErrorFunction;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Elementwise activations of the gated MLP, by the names Hugging Face configs and MAX use. Each
 * is evaluated in double and rounded once to float, so it is at least as accurate as MAX's f32.
 */
public enum Activation {
    SILU("silu") {
        @Override
        public float apply(float x) {
            return x == Float.NEGATIVE_INFINITY ? -0f : (float) (x / (1.0 + Math.exp(-(double) x))); // the limit, not ∞/∞
        }
    },
    /** Exact GELU, {@code 0.5·x·(1+erf(x/√2))}, written with erfc so the negative tail keeps its digits. */
    GELU("gelu") {
        @Override
        public float apply(float x) {
            return x == Float.NEGATIVE_INFINITY ? -0f : (float) (0.5 * x * ErrorFunction.erfc(-x / Math.sqrt(2.0)));
        }
    },
    /**
     * Hugging Face's {@code gelu_pytorch_tanh} / {@code gelu_new}, {@code 0.5·x·(1+tanh(u))}, written
     * as {@code x/(1+e^{-2u})} (the same function) so the negative tail does not cancel.
     */
    GELU_TANH("gelu_tanh") {
        @Override
        public float apply(float x) {
            if (x == Float.NEGATIVE_INFINITY) {
                return -0f;
            }
            double v = x;
            double u = 0.7978845608028654 * (v + 0.044715 * v * v * v);
            return (float) (v / (1.0 + Math.exp(-2.0 * u)));
        }
    },
    RELU("relu") {
        @Override
        public float apply(float x) {
            return x > 0 ? x : (x == x ? 0f : x); // NaN stays NaN
        }
    },
    TANH("tanh") {
        @Override
        public float apply(float x) {
            return (float) Math.tanh(x);
        }
    },
    SIGMOID("sigmoid") {
        @Override
        public float apply(float x) {
            return (float) (1.0 / (1.0 + Math.exp(-(double) x)));
        }
    },
    /** {@code x·σ(1.702·x)}, as in CLIP. */
    QUICK_GELU("quick_gelu") {
        @Override
        public float apply(float x) {
            return x == Float.NEGATIVE_INFINITY ? -0f : (float) (x / (1.0 + Math.exp(-1.702 * x)));
        }
    };

    private final String configName;

    Activation(String configName) {
        this.configName = configName;
    }

    public abstract float apply(float x);

    /** The name used in configs and on the command line, e.g. {@code gelu_tanh}. */
    public String configName() {
        return configName;
    }

    /**
     * Looks an activation up by its config name (case-insensitive). Hugging Face's aliases
     * {@code swish}, {@code gelu_pytorch_tanh} and {@code gelu_new} are accepted too.
     */
    public static Activation fromName(String name) {
        String n = name == null ? "" : name.strip().toLowerCase(Locale.ROOT);
        switch (n) {
            case "swish" -> { return SILU; }
            case "gelu_pytorch_tanh", "gelu_new" -> { return GELU_TANH; }
            default -> { }
        }
        for (Activation a : values()) {
            if (a.configName.equals(n)) {
                return a;
            }
        }
        throw new ConfigException("unknown activation '" + name + "'; valid: " + validNames());
    }

    public static String validNames() {
        return Arrays.stream(values()).map(Activation::configName).collect(Collectors.joining(", "));
    }
}

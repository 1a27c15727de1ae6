package dev.tornadonn.layers.quant;

import java.util.Locale;

/** How a GPTQ checkpoint stores zero points: the {@code checkpoint_format} of its config. */
public enum GptqFormat {
    /** AutoGPTQ's "gptq" (v1): qzeros hold {@code zero − 1}; read back as {@code (stored + 1) mod 2^bits}. */
    GPTQ,
    /** GPTQModel's "gptq_v2": qzeros hold the zero point itself. */
    GPTQ_V2;

    public static GptqFormat parse(String name) {
        return switch (name == null ? "gptq" : name.toLowerCase(Locale.ROOT)) {
            case "gptq" -> GPTQ;
            case "gptq_v2" -> GPTQ_V2;
            default -> throw new IllegalArgumentException("unknown GPTQ checkpoint_format '" + name + "'; valid: gptq, gptq_v2");
        };
    }

    int zeroFromStored(int stored, int bits) {
        return this == GPTQ ? (stored + 1) & ((1 << bits) - 1) : stored;
    }

    int storedFromZero(int zero, int bits) {
        return this == GPTQ ? (zero - 1) & ((1 << bits) - 1) : zero;
    }
}

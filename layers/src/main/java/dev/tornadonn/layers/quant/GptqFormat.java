package dev.tornadonn.layers.quant;

import dev.tornadonn.core.ConfigException;
import java.util.Locale;

/** How a GPTQ checkpoint stores zero points: the {@code checkpoint_format} of its config. */
public enum GptqFormat {
    /**
     * AutoGPTQ's "gptq" (v1): qzeros hold {@code zero − 1}; read back as {@code stored + 1} with no
     * wrap, so a stored {@code 2^bits − 1} is zero {@code 2^bits}, as the AutoGPTQ, exllama and
     * vLLM kernels that run v1 checkpoints read it. A v1 zero is therefore in {@code [1, 2^bits]}.
     */
    GPTQ,
    /** GPTQModel's "gptq_v2": qzeros hold the zero point itself. */
    GPTQ_V2;

    public static GptqFormat parse(String name) {
        return switch (name == null ? "gptq" : name.toLowerCase(Locale.ROOT)) {
            case "gptq" -> GPTQ;
            case "gptq_v2" -> GPTQ_V2;
            default -> throw new ConfigException("unknown GPTQ checkpoint_format '" + name + "'; valid: gptq, gptq_v2");
        };
    }

    int zeroFromStored(int stored, int bits) {
        return this == GPTQ ? stored + 1 : stored;
    }

    /** The smallest zero point this format stores: 1 for v1 (stored 0), 0 for v2. */
    int minZero() {
        return this == GPTQ ? 1 : 0;
    }

    /** The largest: {@code 2^bits} for v1 (stored {@code 2^bits − 1}), {@code 2^bits − 1} for v2. */
    int maxZero(int bits) {
        return this == GPTQ ? 1 << bits : (1 << bits) - 1;
    }

    int storedFromZero(int zero, int bits) {
        if (zero < minZero() || zero > maxZero(bits)) {
            throw new ConfigException("zero point " + zero + " cannot be stored in a " + bits + "-bit "
                    + name().toLowerCase(Locale.ROOT) + " checkpoint: its zeros span [" + minZero() + ", " + maxZero(bits) + "]");
        }
        return this == GPTQ ? zero - 1 : zero;
    }
}

package dev.tornadonn.layers.quant;

import dev.tornadonn.core.io.QuantizationConfig;

/**
 * A GPTQ {@code quantization_config}: bits 2, 3, 4 or 8; {@code groupSize} a positive count of
 * input channels per group, or −1 for one group over all of them; act-order ({@code descAct});
 * symmetric zero points; and the checkpoint format (v1 stores zero − 1).
 */
public record GptqConfig(int bits, int groupSize, boolean descAct, boolean sym, GptqFormat format) {

    public GptqConfig {
        if (bits != 2 && bits != 3 && bits != 4 && bits != 8) {
            throw new IllegalArgumentException("GPTQ bits must be 2, 3, 4 or 8, got " + bits);
        }
        if (groupSize != -1 && groupSize <= 0) {
            throw new IllegalArgumentException("GPTQ group_size must be positive or -1, got " + groupSize);
        }
        if (format == null) {
            throw new IllegalArgumentException("GPTQ checkpoint format must not be null");
        }
    }

    /** Groups for {@code inDim} input channels; the group size must divide it. */
    public int groups(int inDim) {
        if (groupSize == -1) {
            return 1;
        }
        if (inDim % groupSize != 0) {
            throw new IllegalArgumentException("GPTQ group_size " + groupSize + " does not divide in_dim " + inDim);
        }
        return inDim / groupSize;
    }

    /** Channels per group for {@code inDim} input channels. */
    public int effectiveGroupSize(int inDim) {
        return inDim / groups(inDim);
    }

    /**
     * Reads Hugging Face's {@code quantization_config} ({@code quant_method: "gptq"}, {@code bits},
     * {@code group_size}, {@code desc_act}, {@code sym}, {@code checkpoint_format}).
     */
    public static GptqConfig fromHuggingFace(QuantizationConfig q) {
        String method = q.method();
        if (!"gptq".equals(method)) {
            throw new IllegalArgumentException("quantization_config.quant_method is '" + method + "', expected 'gptq'");
        }
        return new GptqConfig(q.integer("bits", null), q.integer("group_size", 128),
                q.bool("desc_act", false), q.bool("sym", true),
                GptqFormat.parse(q.text("checkpoint_format", "gptq")));
    }
}

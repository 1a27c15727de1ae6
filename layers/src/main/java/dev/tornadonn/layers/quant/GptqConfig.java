package dev.tornadonn.layers.quant;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.io.QuantizationConfig;

/**
 * A GPTQ {@code quantization_config}: bits 2, 3, 4 or 8; {@code groupSize} a positive count of
 * input channels per group, or −1 for one group over all of them; act-order ({@code descAct});
 * symmetric zero points; and the checkpoint format (v1 stores zero − 1).
 */
public record GptqConfig(int bits, int groupSize, boolean descAct, boolean sym, GptqFormat format) {

    public GptqConfig {
        if (bits != 2 && bits != 3 && bits != 4 && bits != 8) {
            throw new ConfigException("GPTQ bits must be 2, 3, 4 or 8, got " + bits);
        }
        if (groupSize != -1 && groupSize <= 0) {
            throw new ConfigException("GPTQ group_size must be positive or -1, got " + groupSize);
        }
        if (format == null) {
            throw new ConfigException("GPTQ checkpoint format must not be null");
        }
    }

    /**
     * Groups for {@code inDim} input channels: {@code ceil(inDim / group_size)}, as AutoGPTQ sizes
     * {@code scales} and {@code qzeros}; when the group size does not divide in_dim (576 channels
     * in groups of 128, as in SmolLM-135M), the last group is partial.
     */
    public int groups(int inDim) {
        if (inDim <= 0) {
            throw new ConfigException("in_dim must be positive, got " + inDim);
        }
        return groupSize == -1 ? 1 : (int) ((inDim + (long) groupSize - 1) / groupSize);
    }

    /** Channels per full group for {@code inDim} input channels (in_dim itself for group_size −1). */
    public int effectiveGroupSize(int inDim) {
        return groupSize == -1 ? inDim : groupSize;
    }

    /** Channels in group {@code g}: the group size, less in the last group when it is partial. */
    public int channelsInGroup(int inDim, int g) {
        int size = effectiveGroupSize(inDim);
        return Math.min(size, inDim - g * size);
    }

    /**
     * Reads Hugging Face's {@code quantization_config} ({@code quant_method: "gptq"}, {@code bits},
     * {@code group_size}, {@code desc_act}, {@code sym}, {@code checkpoint_format}).
     */
    public static GptqConfig fromHuggingFace(QuantizationConfig q) {
        String method = q.method();
        if (!"gptq".equals(method)) {
            throw new ConfigException("quantization_config.quant_method is '" + method + "', expected 'gptq'");
        }
        return new GptqConfig(q.integer("bits", null), q.integer("group_size", 128),
                q.bool("desc_act", false), q.bool("sym", true),
                GptqFormat.parse(q.text("checkpoint_format", "gptq")));
    }
}

package dev.tornadonn.layers.quant;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.io.QuantizationConfig;

/**
 * compressed-tensors' weight-only integer scheme in its {@code pack-quantized} format (W4A16,
 * W8A16, as llm-compressor writes them and vLLM's {@code CompressedTensorsWNA16} runs them):
 * {@code bits} 4 or 8, a scale per output row and group of {@code groupSize} input features (or
 * per row: {@code groupSize} −1, strategy {@code channel}), symmetric or with zero points.
 */
public record PackQuantizedConfig(int bits, int groupSize, boolean symmetric) {

    public PackQuantizedConfig {
        if (bits != 4 && bits != 8) {
            throw new ConfigException("compressed-tensors pack-quantized weights are 4 or 8 bits here, got " + bits);
        }
        if (groupSize != -1 && groupSize <= 0) {
            throw new ConfigException("group_size must be positive, or -1 for one group per row, got " + groupSize);
        }
    }

    /** Groups for {@code inDim} input features: {@code ceil(in / group_size)}, the last partial when it does not divide. */
    public int groups(int inDim) {
        return groupSize == -1 ? 1 : (int) ((inDim + (long) groupSize - 1) / groupSize);
    }

    public int effectiveGroupSize(int inDim) {
        return groupSize == -1 ? inDim : groupSize;
    }

    /** The unsigned offset the packer adds to the signed codes: {@code 2^(bits−1)}, a symmetric layer's zero. */
    public int offset() {
        return 1 << (bits - 1);
    }

    /** Values packed per int32: {@code 32 / bits}. */
    public int packFactor() {
        return 32 / bits;
    }

    /**
     * Reads {@code quant_method: "compressed-tensors"} with {@code format: "pack-quantized"} (its
     * own, or {@code config_groups.group_0.format}) and {@code config_groups.group_0}: integer
     * {@code weights} of {@code num_bits} 4 or 8, strategy {@code group} (with {@code group_size})
     * or {@code channel}, {@code symmetric}, static; no {@code input_activations} (weight-only).
     */
    public static PackQuantizedConfig fromHuggingFace(QuantizationConfig q) {
        String method = q.method();
        if (!"compressed-tensors".equals(method)) {
            throw new ConfigException("quantization_config.quant_method is '" + method + "', expected 'compressed-tensors'");
        }
        QuantizationConfig group = q.object("config_groups").flatMap(g -> g.object("group_0")).orElseThrow(
                () -> new ConfigException("compressed-tensors config has no object config_groups.group_0"));
        String format = group.has("format") ? group.text("format", null) : q.text("format", "pack-quantized");
        if (!format.equals("pack-quantized")) {
            throw new ConfigException(q.path() + ".format is '" + format + "': packed integer weights (weight_packed) "
                    + "are read in the pack-quantized format only");
        }
        if (group.object("input_activations").isPresent()) {
            throw new ConfigException(group.path() + ".input_activations is set: pack-quantized layers here are "
                    + "weight-only (W4A16, W8A16); quantised activations are another scheme");
        }
        QuantizationConfig weights = group.object("weights").orElseThrow(
                () -> new ConfigException(group.path() + ".weights must be an object, got null"));
        String type = weights.text("type", "int");
        if (!type.equals("int")) {
            throw new ConfigException(weights.path() + ".type must be \"int\" for pack-quantized weights, got \"" + type + "\"");
        }
        if (weights.bool("dynamic", false)) {
            throw new ConfigException(weights.path() + ".dynamic is true: dynamic weight scales are not supported");
        }
        int bits = weights.integer("num_bits", null);
        String strategy = weights.text("strategy", null);
        int groupSize = switch (strategy) {
            case "group" -> weights.integer("group_size", null);
            case "channel" -> -1;
            default -> throw new ConfigException(weights.path() + ".strategy '" + strategy
                    + "' is not supported for pack-quantized weights: expected group or channel");
        };
        return new PackQuantizedConfig(bits, groupSize, weights.bool("symmetric", true));
    }
}

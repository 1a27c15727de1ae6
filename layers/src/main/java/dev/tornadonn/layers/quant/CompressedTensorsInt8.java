package dev.tornadonn.layers.quant;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.io.QuantizationConfig;
import java.util.List;
import java.util.Map;

/**
 * compressed-tensors' {@code quantization_config} → {@link Int8Scheme}, accepting what vLLM's
 * {@code _is_static_tensor_w8a8} and {@code _is_dynamic_token_w8a8} accept for int types: 8-bit
 * symmetric static weights scaled per tensor or channel, with 8-bit inputs static per tensor or
 * dynamic per token, symmetric or not.
 */
final class CompressedTensorsInt8 {
    private static final List<String> FORMATS = List.of("int-quantized", "naive-quantized");

    private CompressedTensorsInt8() {}

    static Int8Scheme map(QuantizationConfig q) {
        if (q == null) {
            throw new ConfigException("quantization_config must be a JSON object, got null");
        }
        if (!"compressed-tensors".equals(q.method())) {
            throw new ConfigException("quant_method '" + q.method() + "' does not describe int8 W8A8 weights: "
                    + "expected compressed-tensors");
        }
        QuantizationConfig group = onlyGroup(q);
        checkFormat(q);
        checkFormat(group);
        QuantizationConfig weights = group.object("weights").orElseThrow(
                () -> new ConfigException(group.path() + ".weights must be an object, got null"));
        QuantizationConfig inputs = group.object("input_activations").orElseThrow(
                () -> new ConfigException(group.path() + ".input_activations is null: weight-only int8 (W8A16) is "
                        + "not W8A8, whose inputs are int8 too"));
        checkInt8(weights);
        checkInt8(inputs);
        if (!weights.bool("symmetric", true)) {
            throw new ConfigException(weights.path() + ".symmetric is false: asymmetric int8 weights are not supported "
                    + "(vLLM's W8A8 int8 kernels take symmetric weights only)");
        }
        // compressed-tensors may also write "local" here; bool() rejects it rather than read it as false.
        if (weights.bool("dynamic", false)) {
            throw new ConfigException(weights.path() + ".dynamic is true: int8 weights have static scales");
        }
        String ws = weights.text("strategy", null);
        Int8Scheme.WeightScale weightScale = switch (ws) {
            case "tensor" -> Int8Scheme.WeightScale.TENSOR;
            case "channel" -> Int8Scheme.WeightScale.CHANNEL;
            default -> throw new ConfigException(weights.path() + ".strategy '" + ws + "' is not supported for int8 "
                    + "W8A8 weights: expected tensor or channel");
        };
        boolean dynamic = inputs.bool("dynamic", false);
        String is = inputs.text("strategy", null);
        Int8Scheme.InputScale inputScale;
        if (dynamic && is.equals("token")) {
            inputScale = Int8Scheme.InputScale.DYNAMIC_TOKEN;
        } else if (!dynamic && is.equals("tensor")) {
            inputScale = Int8Scheme.InputScale.STATIC_TENSOR;
        } else {
            throw new ConfigException(inputs.path() + ".strategy '" + is + "' with dynamic=" + dynamic
                    + " is not supported for int8 inputs: expected token with dynamic=true, or tensor with dynamic=false "
                    + "(the schemes vLLM runs)");
        }
        return Int8Scheme.of(weightScale, inputScale, inputs.bool("symmetric", true));
    }

    /** The one config group: with several, which applies to a layer depends on its module's targets. */
    private static QuantizationConfig onlyGroup(QuantizationConfig q) {
        QuantizationConfig groups = q.object("config_groups").orElseThrow(
                () -> new ConfigException(q.path() + ".config_groups must be an object, got null"));
        Map<String, Object> all = groups.asMap();
        if (all.size() != 1) {
            throw new ConfigException(groups.path() + " has " + all.size() + " groups " + all.keySet()
                    + ": int8 layers are read with one scheme; give the group that applies (--quant-config)");
        }
        String name = all.keySet().iterator().next();
        return groups.object(name).orElseThrow(() -> new ConfigException(groups.path() + "." + name + " is null"));
    }

    /** The compressor, at the top or in the group (newer writers): int8 codes stored as they are. */
    private static void checkFormat(QuantizationConfig c) {
        if (c.has("format") && !FORMATS.contains(c.text("format", null))) {
            throw new ConfigException(c.path() + ".format is '" + c.text("format", null) + "': int8 W8A8 weights "
                    + "are stored " + String.join(" or ", FORMATS));
        }
    }

    private static void checkInt8(QuantizationConfig args) {
        Object bits = args.asMap().get("num_bits");
        if (!(bits instanceof Long b) || b != 8) {
            throw new ConfigException(args.path() + ".num_bits must be 8, got " + bits);
        }
        String type = args.text("type", null);
        if (!type.equals("int")) {
            throw new ConfigException(args.path() + ".type must be \"int\", got \"" + type + "\"");
        }
        if (args.has("group_size")) {
            throw new ConfigException(args.path() + ".group_size is " + args.asMap().get("group_size")
                    + ": int8 W8A8 scales are per tensor, channel or token, not per group");
        }
    }
}

package dev.tornadonn.layers.quant;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.io.QuantizationConfig;
import java.util.List;
import java.util.Optional;

/**
 * Hugging Face {@code quantization_config} → {@link Float8Config}, after MAX's
 * {@code pipelines/lib/float8.py} but without its restrictions (any block size; static schemes).
 * Activation bounds: only fbgemm's {@code activation_scale_ub} is a bound; the others have none.
 */
final class HuggingFaceFloat8 {
    private HuggingFaceFloat8() {}

    static Float8Config map(QuantizationConfig q) {
        if (q == null) {
            throw new ConfigException("quantization_config must be a JSON object, got null");
        }
        String method = q.method();
        return switch (method) {
            case "fp8" -> fp8(q);
            case "fbgemm_fp8" -> fbgemm(q);
            case "compressed-tensors" -> compressedTensors(q);
            default -> throw new ConfigException("quant_method '" + method
                    + "' is not an fp8 method: expected fp8, fbgemm_fp8 or compressed-tensors");
        };
    }

    /**
     * {@code quant_method: fp8}. With {@code weight_block_size} (DeepSeek-V3, transformers'
     * FineGrainedFP8): block weight scales, and dynamic inputs per token and k block. Without it
     * (AutoFP8, llm-compressor's older exports): one weight scale per tensor and, when dynamic, one
     * input scale per tensor each call, as vLLM runs these checkpoints. The block is taken from the
     * config only: a {@code [1, 1]} scale on a weight of at most 128 × 128 is a per-tensor scale
     * unless the config says {@code weight_block_size}, never guessed from its shape.
     */
    private static Float8Config fp8(QuantizationConfig q) {
        String scheme = q.text("activation_scheme", "dynamic");
        boolean hasBlock = q.has("weight_block_size");
        return switch (scheme) {
            case "dynamic" -> {
                if (!hasBlock) {
                    yield Float8Config.of(Float8InputScaleSpec.dynamicTensor(null), Float8WeightScaleSpec.tensor());
                }
                Float8BlockSize b = pair(q, "weight_block_size");
                yield Float8Config.of(Float8InputScaleSpec.dynamicBlock(b.cols(), null),
                        Float8WeightScaleSpec.block(b.rows(), b.cols()));
            }
            case "static" -> {
                Float8WeightScaleSpec w = hasBlock
                        ? block(pair(q, "weight_block_size"))
                        : Float8WeightScaleSpec.tensor();
                yield Float8Config.of(Float8InputScaleSpec.staticTensor(), w);
            }
            default -> throw new ConfigException("activation_scheme '" + scheme
                    + "' is not supported for quant_method fp8: expected dynamic or static");
        };
    }

    private static Float8Config fbgemm(QuantizationConfig q) {
        Object ub = q.asMap().get("activation_scale_ub");
        Float bound = null;
        if (ub != null) {
            if (!(ub instanceof Number n)) {
                throw new ConfigException(q.path() + ".activation_scale_ub must be a number, got " + show(ub));
            }
            bound = n.floatValue();
        }
        return Float8Config.of(Float8InputScaleSpec.dynamicPerToken(bound), Float8WeightScaleSpec.rowwise());
    }

    private static Float8Config compressedTensors(QuantizationConfig q) {
        QuantizationConfig group = q.object("config_groups").flatMap(g -> g.object("group_0")).orElseThrow(
                () -> new ConfigException("compressed-tensors config has no object config_groups.group_0"));
        QuantizationConfig weights = group.object("weights").orElseThrow(
                () -> new ConfigException(group.path() + ".weights must be an object, got null"));
        checkFloat8(weights);
        // compressed-tensors may also write "local" here; bool() rejects it rather than read it as false.
        if (weights.bool("dynamic", false)) {
            throw new ConfigException(weights.path() + ".dynamic is true: dynamic weight scales are not supported");
        }
        String ws = weights.text("strategy", null);
        Float8WeightScaleSpec weight = switch (ws) {
            case "tensor" -> Float8WeightScaleSpec.tensor();
            case "channel" -> Float8WeightScaleSpec.rowwise();
            case "block" -> block(pair(weights, "block_structure"));
            case "group" -> Float8WeightScaleSpec.block(1, groupSize(weights));
            default -> throw new ConfigException(weights.path() + ".strategy '" + ws
                    + "' is not supported: expected tensor, channel, block or group");
        };
        Optional<QuantizationConfig> activations = group.object("input_activations");
        if (activations.isEmpty()) { // W8A16: fp8 weights, x as it is (vLLM's CompressedTensorsW8A16Fp8)
            return Float8Config.of(Float8InputScaleSpec.weightOnly(), weight);
        }
        QuantizationConfig inputs = activations.get();
        checkFloat8(inputs);
        boolean dynamic = inputs.bool("dynamic", false);
        String is = inputs.text("strategy", null);
        Float8InputScaleSpec input;
        if (dynamic) {
            input = switch (is) {
                case "tensor" -> Float8InputScaleSpec.dynamicTensor(null);
                case "token" -> Float8InputScaleSpec.dynamicPerToken(null);
                case "group" -> Float8InputScaleSpec.dynamicBlock(groupSize(inputs), null);
                default -> throw new ConfigException(inputs.path() + ".strategy '" + is
                        + "' is not supported for dynamic inputs: expected tensor, token or group");
            };
        } else if (is.equals("tensor")) {
            input = Float8InputScaleSpec.staticTensor();
        } else {
            throw new ConfigException(inputs.path() + ".strategy '" + is
                    + "' is not supported for static inputs (dynamic=false): only tensor");
        }
        return Float8Config.of(input, weight);
    }

    private static void checkFloat8(QuantizationConfig args) {
        Object bits = args.asMap().get("num_bits");
        if (!(bits instanceof Long b) || b != 8) {
            throw new ConfigException(args.path() + ".num_bits must be 8, got " + show(bits));
        }
        String type = args.text("type", null);
        if (!type.equals("float")) {
            throw new ConfigException(args.path() + ".type must be \"float\", got \"" + type + "\"");
        }
    }

    private static int groupSize(QuantizationConfig args) {
        Object g = args.asMap().get("group_size");
        if (!(g instanceof Long n) || n <= 0 || n > Integer.MAX_VALUE) {
            throw new ConfigException(args.path() + ".group_size must be a positive integer, got " + show(g));
        }
        return n.intValue();
    }

    private static Float8WeightScaleSpec block(Float8BlockSize b) {
        return Float8WeightScaleSpec.block(b.rows(), b.cols());
    }

    /** {@code [bn, bk]}, or compressed-tensors' older {@code "bnxbk"} string. */
    private static Float8BlockSize pair(QuantizationConfig obj, String field) {
        Object node = obj.asMap().get(field);
        String name = obj.path() + "." + field;
        if (node instanceof String s && s.matches("\\d{1,9}x\\d{1,9}")) {
            String[] p = s.split("x");
            return sized(Integer.parseInt(p[0]), Integer.parseInt(p[1]), name, node);
        }
        if (!(node instanceof List<?> l) || l.size() != 2 || !isInt(l.get(0)) || !isInt(l.get(1))) {
            throw new ConfigException(name + " must be two integers [bn, bk], got " + show(node));
        }
        return sized(((Long) l.get(0)).intValue(), ((Long) l.get(1)).intValue(), name, node);
    }

    private static boolean isInt(Object v) {
        return v instanceof Long l && l == l.intValue();
    }

    private static Float8BlockSize sized(int bn, int bk, String field, Object node) {
        if (bn <= 0 || bk <= 0) {
            throw new ConfigException(field + " must be two positive integers, got " + show(node));
        }
        return new Float8BlockSize(bn, bk);
    }

    /** A config value as JSON shows it, for messages: strings quoted, lists as [a,b]. */
    private static String show(Object v) {
        if (v instanceof String s) {
            return '"' + s + '"';
        }
        if (v instanceof List<?> l) {
            return "[" + String.join(",", l.stream().map(HuggingFaceFloat8::show).toList()) + "]";
        }
        return String.valueOf(v);
    }
}

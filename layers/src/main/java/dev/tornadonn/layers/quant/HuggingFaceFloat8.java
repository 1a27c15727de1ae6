package dev.tornadonn.layers.quant;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Hugging Face {@code quantization_config} → {@link Float8Config}, after MAX's
 * {@code pipelines/lib/float8.py} but without its restrictions (any block size; static schemes).
 * Activation bounds: only fbgemm's {@code activation_scale_ub} is a bound; the others have none.
 */
final class HuggingFaceFloat8 {
    private HuggingFaceFloat8() {}

    static Float8Config map(JsonNode q) {
        if (q == null || !q.isObject()) {
            throw new IllegalArgumentException("quantization_config must be a JSON object, got " + q);
        }
        String method = required(q, "quant_method", "");
        return switch (method) {
            case "fp8" -> fp8(q);
            case "fbgemm_fp8" -> fbgemm(q);
            case "compressed-tensors" -> compressedTensors(q);
            default -> throw new IllegalArgumentException("quant_method '" + method
                    + "' is not an fp8 method: expected fp8, fbgemm_fp8 or compressed-tensors");
        };
    }

    /** DeepSeek-V3 / transformers FineGrainedFP8: block weights, per-token-and-block dynamic inputs. */
    private static Float8Config fp8(JsonNode q) {
        String scheme = optional(q, "activation_scheme", "dynamic", "");
        JsonNode blockNode = q.get("weight_block_size");
        boolean hasBlock = blockNode != null && !blockNode.isNull();
        return switch (scheme) {
            case "dynamic" -> {
                // transformers' FineGrainedFP8Config defaults weight_block_size to [128, 128].
                Float8BlockSize b = hasBlock ? pair(blockNode, "weight_block_size") : new Float8BlockSize(128, 128);
                yield Float8Config.of(Float8InputScaleSpec.dynamicBlock(b.cols(), null),
                        Float8WeightScaleSpec.block(b.rows(), b.cols()));
            }
            case "static" -> {
                Float8WeightScaleSpec w = hasBlock
                        ? block(pair(blockNode, "weight_block_size"))
                        : Float8WeightScaleSpec.tensor();
                yield Float8Config.of(Float8InputScaleSpec.staticTensor(), w);
            }
            default -> throw new IllegalArgumentException("activation_scheme '" + scheme
                    + "' is not supported for quant_method fp8: expected dynamic or static");
        };
    }

    private static Float8Config fbgemm(JsonNode q) {
        JsonNode ub = q.get("activation_scale_ub");
        Float bound = null;
        if (ub != null && !ub.isNull()) {
            if (!ub.isNumber()) {
                throw new IllegalArgumentException("activation_scale_ub must be a number, got " + ub);
            }
            bound = ub.floatValue();
        }
        return Float8Config.of(Float8InputScaleSpec.dynamicPerToken(bound), Float8WeightScaleSpec.rowwise());
    }

    private static Float8Config compressedTensors(JsonNode q) {
        JsonNode group = q.path("config_groups").path("group_0");
        if (!group.isObject()) {
            throw new IllegalArgumentException("compressed-tensors config has no object config_groups.group_0");
        }
        JsonNode weights = group.get("weights");
        JsonNode inputs = group.get("input_activations");
        if (weights == null || !weights.isObject()) {
            throw new IllegalArgumentException("config_groups.group_0.weights must be an object, got " + weights);
        }
        if (inputs == null || !inputs.isObject()) {
            throw new IllegalArgumentException("config_groups.group_0.input_activations is " + inputs
                    + ": weight-only fp8 (W8A16) is not supported, activations must be fp8 too");
        }
        String wp = "config_groups.group_0.weights";
        String ip = "config_groups.group_0.input_activations";
        checkFloat8(weights, wp);
        checkFloat8(inputs, ip);
        if (weights.path("dynamic").asBoolean(false)) {
            throw new IllegalArgumentException(wp + ".dynamic is true: dynamic weight scales are not supported");
        }
        String ws = required(weights, "strategy", wp);
        Float8WeightScaleSpec weight = switch (ws) {
            case "tensor" -> Float8WeightScaleSpec.tensor();
            case "channel" -> Float8WeightScaleSpec.rowwise();
            case "block" -> block(pair(weights.get("block_structure"), wp + ".block_structure"));
            case "group" -> Float8WeightScaleSpec.block(1, groupSize(weights, wp));
            default -> throw new IllegalArgumentException(wp + ".strategy '" + ws
                    + "' is not supported: expected tensor, channel, block or group");
        };
        boolean dynamic = inputs.path("dynamic").asBoolean(false);
        String is = required(inputs, "strategy", ip);
        Float8InputScaleSpec input;
        if (dynamic) {
            input = switch (is) {
                case "tensor" -> Float8InputScaleSpec.dynamicTensor(null);
                case "token" -> Float8InputScaleSpec.dynamicPerToken(null);
                case "group" -> Float8InputScaleSpec.dynamicBlock(groupSize(inputs, ip), null);
                default -> throw new IllegalArgumentException(ip + ".strategy '" + is
                        + "' is not supported for dynamic inputs: expected tensor, token or group");
            };
        } else if (is.equals("tensor")) {
            input = Float8InputScaleSpec.staticTensor();
        } else {
            throw new IllegalArgumentException(ip + ".strategy '" + is
                    + "' is not supported for static inputs (dynamic=false): only tensor");
        }
        return Float8Config.of(input, weight);
    }

    private static void checkFloat8(JsonNode args, String path) {
        JsonNode bits = args.get("num_bits");
        if (bits == null || !bits.canConvertToInt() || bits.asInt() != 8) {
            throw new IllegalArgumentException(path + ".num_bits must be 8, got " + bits);
        }
        String type = required(args, "type", path);
        if (!type.equals("float")) {
            throw new IllegalArgumentException(path + ".type must be \"float\", got \"" + type + "\"");
        }
    }

    private static int groupSize(JsonNode args, String path) {
        JsonNode g = args.get("group_size");
        if (g == null || !g.canConvertToInt() || g.asInt() <= 0) {
            throw new IllegalArgumentException(path + ".group_size must be a positive integer, got " + g);
        }
        return g.asInt();
    }

    private static Float8WeightScaleSpec block(Float8BlockSize b) {
        return Float8WeightScaleSpec.block(b.rows(), b.cols());
    }

    /** {@code [bn, bk]}, or compressed-tensors' older {@code "bnxbk"} string. */
    private static Float8BlockSize pair(JsonNode node, String field) {
        if (node != null && node.isTextual() && node.asText().matches("\\d+x\\d+")) {
            String[] p = node.asText().split("x");
            return sized(Integer.parseInt(p[0]), Integer.parseInt(p[1]), field, node);
        }
        if (node == null || !node.isArray() || node.size() != 2 || !node.get(0).canConvertToInt()
                || !node.get(1).canConvertToInt()) {
            throw new IllegalArgumentException(field + " must be two integers [bn, bk], got " + node);
        }
        return sized(node.get(0).asInt(), node.get(1).asInt(), field, node);
    }

    private static Float8BlockSize sized(int bn, int bk, String field, JsonNode node) {
        if (bn <= 0 || bk <= 0) {
            throw new IllegalArgumentException(field + " must be two positive integers, got " + node);
        }
        return new Float8BlockSize(bn, bk);
    }

    /** A required string field; {@code path} locates obj in messages (empty at top level). */
    private static String required(JsonNode obj, String field, String path) {
        String v = optional(obj, field, null, path);
        if (v == null) {
            throw new IllegalArgumentException((path.isEmpty() ? "" : path + ".") + field + " is missing");
        }
        return v;
    }

    private static String optional(JsonNode obj, String field, String fallback, String path) {
        JsonNode v = obj.get(field);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isTextual()) {
            throw new IllegalArgumentException((path.isEmpty() ? "" : path + ".") + field + " must be a string, got " + v);
        }
        return v.asText();
    }
}

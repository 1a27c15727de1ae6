package dev.tornadonn.core.io;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.DType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A Hugging Face model folder's configuration: {@code config.json} as plain values, and the
 * quantisation settings from its {@code quantization_config} or, failing that, from AutoGPTQ's
 * older {@code quantize_config.json}.
 *
 * @param values       config.json's fields (empty when the folder has only quantize_config.json)
 * @param quantization the quantisation settings, if the model is quantised
 */
public record ModelConfig(Map<String, Object> values, Optional<QuantizationConfig> quantization) {
    static final String CONFIG = "config.json";
    static final String QUANTIZE_CONFIG = "quantize_config.json";

    public ModelConfig {
        values = Json.object((Map<?, ?>) Json.normalise(Objects.requireNonNull(values, "values"), CONFIG));
        Objects.requireNonNull(quantization, "quantization");
    }

    /** The config of model folder {@code dir}; empty when it has neither config file. */
    static Optional<ModelConfig> read(Path dir) {
        Path config = dir.resolve(CONFIG);
        Path quantize = dir.resolve(QUANTIZE_CONFIG);
        Map<String, Object> values = Files.isRegularFile(config) ? object(config) : null;
        Map<String, Object> legacy = Files.isRegularFile(quantize) ? object(quantize) : null;
        if (values == null && legacy == null) {
            return Optional.empty();
        }
        values = values == null ? Map.of() : values;
        Object q = values.get("quantization_config");
        QuantizationConfig quantization = null;
        if (q instanceof Map<?, ?> m) {
            quantization = QuantizationConfig.of(Json.object(m));
        } else if (q != null) {
            throw new ConfigException(config + ": quantization_config must be an object, got " + Json.render(q));
        } else if (legacy != null) {
            quantization = QuantizationConfig.of(fromAutoGptq(legacy));
        }
        return Optional.of(new ModelConfig(values, Optional.ofNullable(quantization)));
    }

    /** AutoGPTQ writes the GPTQ fields at top level, often without quant_method, and marks Marlin packing with a flag. */
    private static Map<String, Object> fromAutoGptq(Map<String, Object> legacy) {
        Map<String, Object> q = new LinkedHashMap<>(legacy);
        q.putIfAbsent("quant_method", "gptq");
        if (Boolean.TRUE.equals(q.get("is_marlin_format")) && q.get("checkpoint_format") == null) {
            q.put("checkpoint_format", "marlin");
        }
        return q;
    }

    private static Map<String, Object> object(Path file) {
        Object root;
        try {
            root = Json.read(file);
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read a JSON config: " + Json.reason(e), e);
        }
        if (!(root instanceof Map<?, ?> m)) {
            throw new ConfigException(file + ": a config must be a JSON object, got " + Json.render(root));
        }
        return Json.object(m);
    }

    /**
     * The weights' dtype from {@code torch_dtype}, or {@code dtype} as newer transformers write
     * it; empty when neither is set.
     */
    public Optional<DType> torchDType() {
        String field = values.get("torch_dtype") != null ? "torch_dtype" : "dtype";
        Object v = values.get(field);
        if (v == null) {
            return Optional.empty();
        }
        return Optional.of(switch (v instanceof String name ? name : "") {
            case "bfloat16" -> DType.BF16;
            case "float16" -> DType.F16;
            case "float32" -> DType.F32;
            default -> throw new ConfigException(CONFIG + ": " + field + " " + Json.render(v)
                    + " is not supported: expected bfloat16, float16 or float32");
        });
    }

    /**
     * Whether the module at {@code modulePrefix} (e.g. {@code model.layers.0.mlp.down_proj}) is
     * left unquantised: named in {@code quantization_config.modules_to_not_convert}
     * (transformers' GPTQ, AWQ, fp8) or in compressed-tensors' {@code ignore}. An entry matches
     * when it equals the prefix or is its last dotted components ({@code lm_head} matches
     * {@code model.lm_head}); an entry {@code re:PATTERN} matches when the pattern matches from
     * the start of the prefix, as Python's {@code re.match} does. False when the model is not
     * quantised at all, so "load quantised" is {@code quantization().isPresent() && !isNotConverted(p)}.
     */
    public boolean isNotConverted(String modulePrefix) {
        Objects.requireNonNull(modulePrefix, "modulePrefix");
        if (quantization.isEmpty()) {
            return false;
        }
        QuantizationConfig q = quantization.get();
        return matchesAny(q, "modules_to_not_convert", modulePrefix) || matchesAny(q, "ignore", modulePrefix);
    }

    private static boolean matchesAny(QuantizationConfig q, String field, String module) {
        for (Object entry : q.list(field)) {
            if (!(entry instanceof String e)) {
                throw new ConfigException(q.path() + "." + field + " must be a list of module names, got "
                        + Json.render(q.list(field)));
            }
            if (matches(e, module, q.path() + "." + field)) {
                return true;
            }
        }
        return false;
    }

    private static boolean matches(String entry, String module, String where) {
        if (entry.startsWith("re:")) {
            try {
                return Pattern.compile(entry.substring(3)).matcher(module).lookingAt();
            } catch (PatternSyntaxException e) {
                throw new ConfigException(where + ": '" + entry + "' is not a valid regex: " + e.getDescription(), e);
            }
        }
        return module.equals(entry) || module.endsWith("." + entry);
    }
}

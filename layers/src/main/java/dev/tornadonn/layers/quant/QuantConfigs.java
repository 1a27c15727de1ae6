package dev.tornadonn.layers.quant;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Reads Hugging Face quantisation settings: a model's {@code config.json} whose
 * {@code quantization_config} holds them, or a file holding only that object.
 */
public final class QuantConfigs {
    private static final ObjectMapper JSON = new ObjectMapper();

    private QuantConfigs() {}

    /** The {@code quantization_config} object of {@code file}, or the file's root when it is that object. */
    public static JsonNode read(Path file) {
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read a JSON config: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException(file + ": a config must be a JSON object");
        }
        JsonNode q = root.has("quantization_config") ? root.get("quantization_config") : root;
        if (!q.isObject() || !q.has("quant_method")) {
            throw new IllegalArgumentException(file + ": no quantization_config with a quant_method");
        }
        return q;
    }

    /** The config's {@code quant_method}. */
    public static String method(JsonNode q) {
        return text(q, "quant_method", null);
    }

    static String text(JsonNode q, String field, String fallback) {
        JsonNode v = q.get(field);
        if (v == null || v.isNull()) {
            if (fallback == null) {
                throw new IllegalArgumentException("quantization_config." + field + " is missing");
            }
            return fallback;
        }
        if (!v.isTextual()) {
            throw new IllegalArgumentException("quantization_config." + field + " must be a string, got " + v);
        }
        return v.textValue();
    }

    static int integer(JsonNode q, String field, Integer fallback) {
        JsonNode v = q.get(field);
        if (v == null || v.isNull()) {
            if (fallback == null) {
                throw new IllegalArgumentException("quantization_config." + field + " is missing");
            }
            return fallback;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw new IllegalArgumentException("quantization_config." + field + " must be an integer, got " + v);
        }
        return v.intValue();
    }

    static boolean bool(JsonNode q, String field, boolean fallback) {
        JsonNode v = q.get(field);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isBoolean()) {
            throw new IllegalArgumentException("quantization_config." + field + " must be true or false, got " + v);
        }
        return v.booleanValue();
    }
}

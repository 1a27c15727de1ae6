package dev.tornadonn.core.io;

import dev.tornadonn.core.ConfigException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A read-only view of a Hugging Face {@code quantization_config} object (or an object nested in
 * one), holding plain values: String, Long, Double, Boolean, List, Map or null. The typed
 * accessors throw a {@link dev.tornadonn.core.ConfigException} naming the field by its path, e.g.
 * {@code quantization_config.config_groups.group_0.weights.strategy}.
 */
public final class QuantizationConfig {
    private static final String ROOT = "quantization_config";

    private final String path;
    private final Map<String, Object> values;

    private QuantizationConfig(String path, Map<String, Object> values) {
        this.path = path;
        this.values = values;
    }

    /** A copy of {@code values}, checked to hold only JSON-like values. */
    public static QuantizationConfig of(Map<String, ?> values) {
        Objects.requireNonNull(values, "values");
        return new QuantizationConfig(ROOT, Json.object((Map<?, ?>) Json.normalise(values, ROOT)));
    }

    /**
     * The {@code quantization_config} object of a model's {@code config.json}, or the file's root
     * when the file holds only that object; either way it must have a {@code quant_method}.
     */
    public static QuantizationConfig read(Path file) {
        Object root;
        try {
            root = Json.read(file);
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read a JSON config: " + Json.reason(e), e);
        }
        if (!(root instanceof Map<?, ?> object)) {
            throw new ConfigException(file + ": a config must be a JSON object");
        }
        Object q = object.containsKey(ROOT) ? object.get(ROOT) : object;
        if (!(q instanceof Map<?, ?> m) || !m.containsKey("quant_method")) {
            throw new ConfigException(file + ": no quantization_config with a quant_method");
        }
        return of(Json.object(m));
    }

    /** The object that a JSON string holds, as {@link #of} takes it: for tests and inline configs. */
    public static QuantizationConfig parse(String json) {
        Object root;
        try {
            root = Json.parse(json);
        } catch (IOException e) {
            throw new ConfigException("quantization_config is not valid JSON: " + Json.reason(e), e);
        }
        if (!(root instanceof Map<?, ?> m)) {
            throw new ConfigException("quantization_config must be a JSON object, got " + Json.render(root));
        }
        return of(Json.object(m));
    }

    /** {@code quantization_config}, or the path of this nested object inside it. */
    public String path() {
        return path;
    }

    /** The {@code quant_method}; required. */
    public String method() {
        return text("quant_method", null);
    }

    /** Whether {@code field} is present with a non-null value. */
    public boolean has(String field) {
        return values.get(field) != null;
    }

    /** A string field; absent or null gives {@code fallback}, or an error when fallback is null. */
    public String text(String field, String fallback) {
        Object v = values.get(field);
        if (v == null) {
            return orMissing(field, fallback);
        }
        if (!(v instanceof String s)) {
            throw new ConfigException(name(field) + " must be a string, got " + Json.render(v));
        }
        return s;
    }

    /** An integer field; absent or null gives {@code fallback}, or an error when fallback is null. */
    public int integer(String field, Integer fallback) {
        Object v = values.get(field);
        if (v == null) {
            return orMissing(field, fallback);
        }
        if (!(v instanceof Long l) || l != l.intValue()) {
            throw new ConfigException(name(field) + " must be an integer, got " + Json.render(v));
        }
        return l.intValue();
    }

    /** A boolean field; absent or null gives {@code fallback}. */
    public boolean bool(String field, boolean fallback) {
        Object v = values.get(field);
        if (v == null) {
            return fallback;
        }
        if (!(v instanceof Boolean b)) {
            throw new ConfigException(name(field) + " must be true or false, got " + Json.render(v));
        }
        return b;
    }

    /** A nested object; empty when absent or null. */
    public Optional<QuantizationConfig> object(String field) {
        Object v = values.get(field);
        if (v == null) {
            return Optional.empty();
        }
        if (!(v instanceof Map<?, ?> m)) {
            throw new ConfigException(name(field) + " must be an object, got " + Json.render(v));
        }
        return Optional.of(new QuantizationConfig(name(field), Json.object(m)));
    }

    /** A list field (its elements plain values); empty when absent or null. */
    public List<Object> list(String field) {
        Object v = values.get(field);
        if (v == null) {
            return List.of();
        }
        if (!(v instanceof List<?> l)) {
            throw new ConfigException(name(field) + " must be a list, got " + Json.render(v));
        }
        return Collections.unmodifiableList(l);
    }

    /** A list of integers; empty when absent or null. */
    public List<Integer> integers(String field) {
        List<Object> raw = list(field);
        List<Integer> out = new ArrayList<>(raw.size());
        for (Object e : raw) {
            if (!(e instanceof Long l) || l != l.intValue()) {
                throw new ConfigException(name(field) + " must be a list of integers, got " + Json.render(raw));
            }
            out.add(l.intValue());
        }
        return List.copyOf(out);
    }

    /** Every field, read-only, in the file's order. */
    public Map<String, Object> asMap() {
        return values;
    }

    private <T> T orMissing(String field, T fallback) {
        if (fallback == null) {
            throw new ConfigException(name(field) + " is missing");
        }
        return fallback;
    }

    private String name(String field) {
        return path + "." + field;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof QuantizationConfig other && values.equals(other.values);
    }

    @Override
    public int hashCode() {
        return values.hashCode();
    }

    /** The object as JSON. */
    @Override
    public String toString() {
        return Json.render(values);
    }
}

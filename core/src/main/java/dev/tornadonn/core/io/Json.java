package dev.tornadonn.core.io;

import dev.tornadonn.core.ConfigException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The one place Jackson is used for config files: JSON in, plain Java values out (String, Long,
 * Double, Boolean, List, Map, null), so no Jackson type reaches a public signature.
 */
final class Json {
    // json.dump never writes a key twice, so a duplicate is a hand edit gone wrong: say so rather
    // than keep the last. Trailing tokens: without this readTree stops after the first value.
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private Json() {}

    /** The file's JSON value as plain values; an IOException for unreadable or malformed JSON. */
    static Object read(Path file) throws IOException {
        return plain(JSON.readTree(file.toFile()));
    }

    static Object parse(String json) throws IOException {
        return plain(JSON.readTree(json));
    }

    /** A parsed or normalised JSON object, whose keys are always strings. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> object(Map<?, ?> parsed) {
        return (Map<String, Object>) parsed;
    }

    /** A short reason for a parse failure, without Jackson's source-location boilerplate. */
    static String reason(IOException e) {
        return e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
    }

    /** {@code value} written back as JSON, for error messages. */
    static String render(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            return String.valueOf(value);
        }
    }

    private static Object plain(JsonNode node) {
        if (node == null || node.isNull() || node.isMissingNode()) {
            return null;
        }
        if (node.isObject()) {
            Map<String, Object> m = new LinkedHashMap<>();
            node.properties().forEach(e -> m.put(e.getKey(), plain(e.getValue())));
            return Collections.unmodifiableMap(m);
        }
        if (node.isArray()) {
            List<Object> l = new ArrayList<>(node.size());
            node.forEach(e -> l.add(plain(e)));
            return Collections.unmodifiableList(l);
        }
        if (node.isTextual()) {
            return node.textValue();
        }
        if (node.isBoolean()) {
            return node.booleanValue();
        }
        if (node.isIntegralNumber()) {
            return node.canConvertToLong() ? (Object) node.longValue() : (Object) node.doubleValue();
        }
        if (node.isNumber()) {
            return node.doubleValue();
        }
        throw new ConfigException("unsupported JSON value " + node);
    }

    /**
     * A caller's value checked and normalised like parsed JSON (Integer → Long, Float → Double,
     * maps and lists copied read-only); {@code where} names it in the error.
     */
    static Object normalise(Object v, String where) {
        return switch (v) {
            case null -> null;
            case String s -> s;
            case Boolean b -> b;
            case Long l -> l;
            case Integer i -> (long) i;
            case Short s -> (long) s;
            case Byte b -> (long) b;
            case BigInteger b -> b.bitLength() < 64 ? (Object) b.longValue() : (Object) b.doubleValue();
            case BigDecimal d -> d.doubleValue();
            case Double d -> d;
            case Float f -> (double) f;
            case Map<?, ?> m -> {
                Map<String, Object> out = new LinkedHashMap<>();
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    if (!(e.getKey() instanceof String k)) {
                        throw new ConfigException(where + ": object keys must be strings, got " + e.getKey());
                    }
                    out.put(k, normalise(e.getValue(), where + "." + k));
                }
                yield Collections.unmodifiableMap(out);
            }
            case List<?> l -> {
                List<Object> out = new ArrayList<>(l.size());
                for (int i = 0; i < l.size(); i++) {
                    out.add(normalise(l.get(i), where + "[" + i + "]"));
                }
                yield Collections.unmodifiableList(out);
            }
            default -> throw new ConfigException(where + ": " + v.getClass().getSimpleName()
                    + " is not a JSON value (String, number, Boolean, List, Map or null)");
        };
    }
}

package dev.tornadonn.core.io;

import dev.tornadonn.core.ConfigException;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

class QuantizationConfigTest {

    private static void rejects(String message, Executable e) {
        ConfigException ex = assertThrows(ConfigException.class, e);
        assertTrue(ex.getMessage().contains(message), () -> "'" + ex.getMessage() + "' lacks '" + message + "'");
    }

    @Test
    void typedAccessorsFallBackOrNameTheField() {
        QuantizationConfig q = QuantizationConfig.parse("""
                {"quant_method": "gptq", "bits": 4, "group_size": null, "desc_act": true, "sym": "yes",
                 "damp_percent": 0.01, "big": 3000000000, "name": 7, "weight_block_size": [128, 64]}""");
        assertEquals("gptq", q.method());
        assertEquals(4, q.integer("bits", null));
        assertEquals(128, q.integer("group_size", 128), "null takes the fallback");
        assertEquals(-1, q.integer("absent", -1));
        assertTrue(q.bool("desc_act", false));
        assertTrue(q.bool("absent", true));
        assertEquals("gptq", q.text("checkpoint_format", "gptq"));
        rejects("quantization_config.bits2 is missing", () -> q.integer("bits2", null));
        rejects("quantization_config.format is missing", () -> q.text("format", null));
        rejects("quantization_config.damp_percent must be an integer, got 0.01", () -> q.integer("damp_percent", null));
        rejects("quantization_config.big must be an integer, got 3000000000", () -> q.integer("big", 0));
        rejects("quantization_config.sym must be true or false, got \"yes\"", () -> q.bool("sym", true));
        rejects("quantization_config.name must be a string, got 7", () -> q.text("name", "x"));
        assertTrue(q.has("bits"));
        assertFalse(q.has("group_size"), "null counts as absent");
        assertFalse(q.has("absent"));
        assertEquals(List.of(128, 64), q.integers("weight_block_size"));
        assertEquals(List.of(), q.list("absent"));
        rejects("quantization_config.bits must be a list, got 4", () -> q.list("bits"));
        assertEquals(List.of("quant_method", "bits", "group_size", "desc_act", "sym", "damp_percent", "big", "name",
                "weight_block_size"), List.copyOf(q.asMap().keySet()));
        assertThrows(UnsupportedOperationException.class, () -> q.asMap().put("bits", 8L));
        assertThrows(UnsupportedOperationException.class, () -> q.list("weight_block_size").add(1));
    }

    @Test
    void nestedObjectsNameTheirPath() {
        QuantizationConfig q = QuantizationConfig.parse("""
                {"quant_method": "compressed-tensors", "ignore": ["lm_head"],
                 "config_groups": {"group_0": {"weights": {"num_bits": 8, "strategy": 3, "block_structure": [1, "x"]}}}}""");
        QuantizationConfig w = q.object("config_groups").flatMap(g -> g.object("group_0"))
                .flatMap(g -> g.object("weights")).orElseThrow();
        assertEquals("quantization_config.config_groups.group_0.weights", w.path());
        assertEquals(8, w.integer("num_bits", null));
        rejects("quantization_config.config_groups.group_0.weights.strategy must be a string, got 3", () -> w.text("strategy", null));
        rejects("quantization_config.config_groups.group_0.weights.block_structure must be a list of integers, got [1,\"x\"]",
                () -> w.integers("block_structure"));
        assertTrue(q.object("absent").isEmpty());
        rejects("quantization_config.ignore must be an object, got [\"lm_head\"]", () -> q.object("ignore"));
        rejects("quantization_config.quant_method must be a string", () -> QuantizationConfig.parse("{\"quant_method\": 1}").method());
    }

    @Test
    void ofNormalisesJavaValuesAndCopies() {
        Map<String, Object> inner = new LinkedHashMap<>();
        inner.put("num_bits", 8);
        List<Object> sizes = new ArrayList<>(List.of(128, 128L, BigInteger.TWO));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("quant_method", "fp8");
        m.put("weight_block_size", sizes);
        m.put("activation_scale_ub", 1200f);
        m.put("weights", inner);
        m.put("skip", null);
        QuantizationConfig q = QuantizationConfig.of(m);
        sizes.add(1);
        inner.put("num_bits", 4);
        assertEquals(List.of(128, 128, 2), q.integers("weight_block_size"));
        assertEquals(8, q.object("weights").orElseThrow().integer("num_bits", null));
        assertEquals(1200.0, q.asMap().get("activation_scale_ub"));
        assertEquals(QuantizationConfig.parse(
                "{\"quant_method\":\"fp8\",\"weight_block_size\":[128,128,2],\"activation_scale_ub\":1200.0,"
                        + "\"weights\":{\"num_bits\":8},\"skip\":null}"), q);
        assertEquals("{\"quant_method\":\"fp8\",\"weight_block_size\":[128,128,2],\"activation_scale_ub\":1200.0,"
                + "\"weights\":{\"num_bits\":8},\"skip\":null}", q.toString());
        rejects("quantization_config.weights.when: Object is not a JSON value",
                () -> QuantizationConfig.of(Map.of("weights", Map.of("when", new Object()))));
    }

    @Test
    void readTakesAConfigJsonOrTheBareObject(@TempDir Path dir) {
        Path config = dir.resolve("config.json");
        ModelFolders.write(config, """
                {"hidden_size": 4096, "quantization_config": {"quant_method": "gptq", "bits": 4}}""");
        assertEquals(4, QuantizationConfig.read(config).integer("bits", null));
        Path bare = dir.resolve("quant.json");
        ModelFolders.write(bare, "{\"quant_method\": \"fp8\"}");
        assertEquals("fp8", QuantizationConfig.read(bare).method());
        ModelFolders.write(bare, "{\"bits\": 4}");
        rejects(bare + ": no quantization_config with a quant_method", () -> QuantizationConfig.read(bare));
        ModelFolders.write(bare, "[1]");
        rejects(bare + ": a config must be a JSON object", () -> QuantizationConfig.read(bare));
        ModelFolders.write(bare, "{\"quant_method\": ");
        rejects(bare + ": cannot read a JSON config", () -> QuantizationConfig.read(bare));
        rejects(dir.resolve("absent.json") + ": cannot read a JSON config", () -> QuantizationConfig.read(dir.resolve("absent.json")));
        rejects("quantization_config must be a JSON object, got [1]", () -> QuantizationConfig.parse("[1]"));
        rejects("quantization_config is not valid JSON", () -> QuantizationConfig.parse("{} x"));
    }
}

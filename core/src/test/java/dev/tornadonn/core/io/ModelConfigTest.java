package dev.tornadonn.core.io;

import dev.tornadonn.core.ConfigException;
import static dev.tornadonn.core.io.ModelFolders.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.Tensor;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

class ModelConfigTest {
    @TempDir
    Path dir;

    private ModelConfig config(String configJson) {
        write(dir.resolve("config.json"), configJson);
        return ModelConfig.read(dir).orElseThrow();
    }

    private static void rejects(String message, Executable e) {
        ConfigException ex = assertThrows(ConfigException.class, e);
        assertTrue(ex.getMessage().contains(message), () -> "'" + ex.getMessage() + "' lacks '" + message + "'");
    }

    @Test
    void torchDTypeOrTheNewerDType() {
        assertEquals(Optional.of(DType.BF16), config("{\"torch_dtype\": \"bfloat16\"}").torchDType());
        assertEquals(Optional.of(DType.F16), config("{\"dtype\": \"float16\"}").torchDType());
        assertEquals(Optional.of(DType.F32), config("{\"torch_dtype\": \"float32\", \"dtype\": \"bfloat16\"}").torchDType());
        assertEquals(Optional.empty(), config("{\"torch_dtype\": null}").torchDType());
        assertEquals(Optional.empty(), config("{}").torchDType());
        ModelConfig odd = config("{\"torch_dtype\": \"float8_e4m3fn\"}"); // reading it is fine; asking is the error
        rejects("config.json: torch_dtype \"float8_e4m3fn\" is not supported: expected bfloat16, float16 or float32",
                odd::torchDType);
        rejects("dtype 3 is not supported", () -> config("{\"dtype\": 3}").torchDType());
        assertTrue(ModelConfig.read(dir.resolve("absent")).isEmpty());
    }

    @Test
    void modulesToNotConvertMatchWholeTrailingNames() {
        ModelConfig c = config("""
                {"torch_dtype": "float16", "quantization_config": {"quant_method": "gptq", "bits": 4,
                 "modules_to_not_convert": ["lm_head", "mlp.gate"]}}""");
        assertEquals("gptq", c.quantization().orElseThrow().method());
        assertTrue(c.isNotConverted("lm_head"));
        assertTrue(c.isNotConverted("model.lm_head"));
        assertTrue(c.isNotConverted("model.layers.3.mlp.gate"));
        assertFalse(c.isNotConverted("model.xlm_head"), "a whole component, not a suffix of one");
        assertFalse(c.isNotConverted("lm_head.bias"));
        assertFalse(c.isNotConverted("model.layers.3.mlp.gate_proj"));
        assertFalse(config("{\"quantization_config\": {\"quant_method\": \"awq\", \"modules_to_not_convert\": null}}")
                .isNotConverted("lm_head"));
        assertFalse(config("{\"torch_dtype\": \"bfloat16\"}").isNotConverted("lm_head"), "not quantised at all");
        rejects("quantization_config.modules_to_not_convert must be a list of module names, got [1]",
                () -> config("{\"quantization_config\": {\"quant_method\": \"fp8\", \"modules_to_not_convert\": [1]}}")
                        .isNotConverted("x"));
    }

    @Test
    void compressedTensorsIgnoreTakesNamesAndRegexes() {
        ModelConfig c = config("""
                {"quantization_config": {"quant_method": "compressed-tensors", "format": "float-quantized",
                 "ignore": ["re:.*lm_head", "re:model\\\\.layers\\\\.[0-1]\\\\.mlp\\\\.down_proj$", "model.embed_tokens"],
                 "config_groups": {"group_0": {"targets": ["Linear"]}}}}""");
        assertTrue(c.isNotConverted("lm_head"));
        assertTrue(c.isNotConverted("model.lm_head"));
        assertTrue(c.isNotConverted("model.layers.1.mlp.down_proj"));
        assertFalse(c.isNotConverted("model.layers.2.mlp.down_proj"));
        assertFalse(c.isNotConverted("model.layers.1.mlp.down_proj_x"), "the $ anchors the end");
        assertTrue(c.isNotConverted("model.embed_tokens"));
        assertFalse(c.isNotConverted("model.layers.0.mlp.up_proj"));
        rejects("quantization_config.ignore: 're:(' is not a valid regex",
                () -> config("{\"quantization_config\": {\"quant_method\": \"compressed-tensors\", \"ignore\": [\"re:(\"]}}")
                        .isNotConverted("x"));
    }

    @Test
    void autoGptqQuantizeConfigIsGptq() {
        write(dir.resolve("quantize_config.json"), """
                {"bits": 4, "group_size": 128, "damp_percent": 0.01, "desc_act": true, "static_groups": false,
                 "sym": true, "true_sequential": true, "model_name_or_path": null, "model_file_base_name": "model"}""");
        ModelConfig alone = ModelConfig.read(dir).orElseThrow();
        assertEquals(Map.of(), alone.values());
        QuantizationConfig q = alone.quantization().orElseThrow();
        assertEquals("gptq", q.method());
        assertEquals(4, q.integer("bits", null));
        assertTrue(q.bool("desc_act", false));
        assertEquals("gptq", q.text("checkpoint_format", "gptq"));

        write(dir.resolve("quantize_config.json"), "{\"bits\": 4, \"is_marlin_format\": true}");
        assertEquals("marlin", ModelConfig.read(dir).orElseThrow().quantization().orElseThrow().text("checkpoint_format", null),
                "Marlin-packed weights must not pass as plain GPTQ");

        write(dir.resolve("quantize_config.json"), "{\"bits\": 8, \"quant_method\": \"gptq\", \"checkpoint_format\": \"gptq_v2\"}");
        ModelConfig both = config("""
                {"torch_dtype": "float16", "quantization_config": {"quant_method": "gptq", "bits": 4}}""");
        assertEquals(4, both.quantization().orElseThrow().integer("bits", null), "config.json wins");
        assertFalse(both.quantization().orElseThrow().has("checkpoint_format"), "whole, not merged");
        ModelConfig plain = config("{\"torch_dtype\": \"float16\"}");
        assertEquals(8, plain.quantization().orElseThrow().integer("bits", null), "quantize_config.json fills in");
    }

    @Test
    void malformedConfigsNameTheirFile() {
        rejects(dir.resolve("config.json") + ": cannot read a JSON config", () -> config("{\"a\": "));
        rejects(dir.resolve("config.json") + ": a config must be a JSON object, got [1]", () -> config("[1]"));
        rejects(dir.resolve("config.json") + ": quantization_config must be an object, got \"gptq\"",
                () -> config("{\"quantization_config\": \"gptq\"}"));
        write(dir.resolve("config.json"), "{}");
        write(dir.resolve("quantize_config.json"), "{\"bits\": 4,}");
        rejects(dir.resolve("quantize_config.json") + ": cannot read a JSON config", () -> ModelConfig.read(dir));
        // and Checkpoint.open fails before opening any shard
        SafetensorsWriter.write(dir.resolve("model.safetensors"), Map.of("w", Tensor.of(new float[] {1}, 1)));
        rejects("quantize_config.json", () -> Checkpoint.open(dir));
    }

    @Test
    void aRecordOfPlainValues() {
        ModelConfig c = new ModelConfig(Map.of("torch_dtype", "bfloat16", "num_hidden_layers", 2), Optional.empty());
        assertEquals(2L, c.values().get("num_hidden_layers"), "normalised as parsed JSON is");
        assertEquals(Optional.of(DType.BF16), c.torchDType());
        assertThrows(UnsupportedOperationException.class, () -> c.values().put("x", 1L));
        assertEquals(config("{\"torch_dtype\": \"bfloat16\", \"num_hidden_layers\": 2}").values().keySet(), c.values().keySet());
    }
}

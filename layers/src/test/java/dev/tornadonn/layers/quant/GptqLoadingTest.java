package dev.tornadonn.layers.quant;

import dev.tornadonn.core.ConfigException;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.TornadoNnException;
import dev.tornadonn.core.WeightLoadException;
import dev.tornadonn.core.io.Checkpoint;
import dev.tornadonn.core.io.QuantizationConfig;
import dev.tornadonn.core.io.SafetensorsWriter;
import dev.tornadonn.core.io.TensorSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GPTQ checkpoints are validated completely before a backend is asked for; with none on this
 * module's class path, "no backend" means the checkpoint was accepted.
 */
class GptqLoadingTest {
    private static final GptqConfig INT4 = new GptqConfig(4, 32, true, true, GptqFormat.GPTQ);
    private static final GptqLinearConfig CONFIG = new GptqLinearConfig(64, 16, INT4, DType.F16, DeviceRef.cpu(0), false, "mlp.up_proj");

    private static Map<String, Tensor> checkpoint(GptqLinearConfig config, int[] groupOf) {
        SplittableRandom rnd = new SplittableRandom(7);
        float[] w = new float[config.inDim() * config.outDim()];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) rnd.nextDouble(-1, 1);
        }
        return new LinkedHashMap<>(GptqPacker.pack(w, config, groupOf));
    }

    private static String loadError(Map<String, Tensor> ckpt) {
        return assertThrows(WeightLoadException.class, () -> dev.tornadonn.layers.Linear.load(CONFIG, TensorSource.of(ckpt))).getMessage();
    }

    @Test
    void aPackedCheckpointIsAccepted() {
        TornadoNnException e = assertThrows(TornadoNnException.class, () -> dev.tornadonn.layers.Linear.load(CONFIG, TensorSource.of(checkpoint(CONFIG, null))));
        assertTrue(e.getMessage().contains("no backend"), e.getMessage());
    }

    @Test
    void wrongPackedShapesAreNamed() {
        Map<String, Tensor> c = checkpoint(CONFIG, null);
        c.put("mlp.up_proj.qweight", Tensor.ofInts(Shape.of(4, 16), new int[64]));
        assertTrue(loadError(c).contains("tensor 'mlp.up_proj.qweight' has shape (4, 16), expected (8, 16)"));
        c = checkpoint(CONFIG, null);
        c.put("mlp.up_proj.qzeros", Tensor.ofInts(Shape.of(2, 4), new int[8]));
        assertTrue(loadError(c).contains("tensor 'mlp.up_proj.qzeros' has shape (2, 4), expected (2, 2)"));
        c = checkpoint(CONFIG, null);
        c.put("mlp.up_proj.scales", Tensor.allocate(DType.F16, Shape.of(16)));
        assertTrue(loadError(c).contains("'mlp.up_proj.scales' has shape (16,), expected (2, 16)"));
        c = checkpoint(CONFIG, null);
        c.put("mlp.up_proj.qweight", Tensor.allocate(DType.F32, Shape.of(8, 16)));
        assertTrue(loadError(c).contains("'mlp.up_proj.qweight' has dtype F32, expected I32"));
    }

    @Test
    void actOrderNeedsItsGroupIndex() {
        Map<String, Tensor> c = checkpoint(CONFIG, null);
        c.remove("mlp.up_proj.g_idx");
        assertTrue(loadError(c).contains("missing key 'mlp.up_proj.g_idx'"));
    }

    @Test
    void groupIndexOutOfRangeOrUnequalIsAnError() {
        Map<String, Tensor> c = checkpoint(CONFIG, null);
        int[] g = c.get("mlp.up_proj.g_idx").toIntArray();
        g[5] = 2;
        c.put("mlp.up_proj.g_idx", Tensor.ofInts(Shape.of(64), g));
        assertTrue(loadError(c).contains("entry 5 is 2, outside the 2 groups"));
        g[5] = 1; // group 0 now has 31 channels, group 1 has 33
        c.put("mlp.up_proj.g_idx", Tensor.ofInts(Shape.of(64), g));
        String msg = loadError(c);
        assertTrue(msg.contains("group 0 has 31 channels") && msg.contains("exactly group_size = 32"), msg);
    }

    @Test
    void configsRejectWhatGptqCannotPack() {
        // AutoGPTQ sizes scales and qzeros ceil(in / group): 64 channels in groups of 48 are 48 + 16.
        assertEquals(2, new GptqConfig(4, 48, false, true, GptqFormat.GPTQ).groups(64));
        assertEquals(16, new GptqConfig(4, 48, false, true, GptqFormat.GPTQ).channelsInGroup(64, 1));
        assertEquals(5, new GptqConfig(4, 128, false, true, GptqFormat.GPTQ).groups(576));
        assertThrows(ConfigException.class, () -> new GptqConfig(5, 32, false, true, GptqFormat.GPTQ));
        assertThrows(ConfigException.class, () -> new GptqConfig(4, 0, false, true, GptqFormat.GPTQ));
        assertTrue(assertThrows(ConfigException.class,
                () -> new GptqLinearConfig(64, 20, new GptqConfig(3, 32, false, true, GptqFormat.GPTQ), DType.F16, DeviceRef.cpu(0), false, ""))
                .getMessage().contains("out_dim 20 × 3 bits is not a multiple of 32"));
        assertThrows(ConfigException.class,
                () -> new GptqLinearConfig(64, 16, INT4, DType.I8, DeviceRef.cpu(0), false, ""));
    }

    @Test
    void huggingFaceConfigsMapOntoGptqConfig(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("config.json");
        Files.writeString(model, """
                {"architectures": ["LlamaForCausalLM"], "hidden_size": 4096,
                 "quantization_config": {"quant_method": "gptq", "bits": 4, "group_size": 128, "desc_act": true,
                                         "sym": false, "checkpoint_format": "gptq_v2", "damp_percent": 0.01}}""");
        assertEquals(new GptqConfig(4, 128, true, false, GptqFormat.GPTQ_V2), GptqConfig.fromHuggingFace(QuantizationConfig.read(model)));
        Path bare = dir.resolve("quantize_config.json");
        Files.writeString(bare, """
                {"quant_method": "gptq", "bits": 8, "group_size": -1}""");
        assertEquals(new GptqConfig(8, -1, false, true, GptqFormat.GPTQ), GptqConfig.fromHuggingFace(QuantizationConfig.read(bare)));
        assertTrue(assertThrows(ConfigException.class, () -> GptqConfig.fromHuggingFace(QuantizationConfig.parse(
                "{\"quant_method\": \"awq\", \"bits\": 4}"))).getMessage().contains("'awq', expected 'gptq'"));
        assertTrue(assertThrows(ConfigException.class, () -> GptqConfig.fromHuggingFace(QuantizationConfig.parse(
                "{\"quant_method\": \"gptq\", \"bits\": 4, \"checkpoint_format\": \"marlin\"}"))).getMessage().contains("marlin"));
        assertTrue(assertThrows(ConfigException.class, () -> GptqConfig.fromHuggingFace(QuantizationConfig.parse(
                "{\"quant_method\": \"gptq\", \"bits\": \"4\"}"))).getMessage().contains("bits must be an integer"));
    }

    @Test
    void autoGptqFoldersReadThroughCheckpoint(@TempDir Path dir) throws Exception {
        SafetensorsWriter.write(dir.resolve("model.safetensors"), Map.of("w", Tensor.of(new float[] {1}, 1)));
        Files.writeString(dir.resolve("quantize_config.json"), """
                {"bits": 4, "group_size": 64, "desc_act": false, "sym": false, "true_sequential": true}""");
        try (Checkpoint c = Checkpoint.open(dir)) {
            QuantizationConfig q = c.config().orElseThrow().quantization().orElseThrow();
            assertEquals(new GptqConfig(4, 64, false, false, GptqFormat.GPTQ), GptqConfig.fromHuggingFace(q));
        }
        Files.writeString(dir.resolve("quantize_config.json"), """
                {"bits": 4, "group_size": 128, "is_marlin_format": true}""");
        try (Checkpoint c = Checkpoint.open(dir)) {
            QuantizationConfig q = c.config().orElseThrow().quantization().orElseThrow();
            assertTrue(assertThrows(ConfigException.class, () -> GptqConfig.fromHuggingFace(q))
                    .getMessage().contains("marlin"));
        }
    }

    @Test
    void packedBitsRoundTripAcrossWordBoundaries() {
        for (int bits : new int[] {2, 3, 4, 8}) {
            int[] words = new int[3 * bits];
            for (int i = 0; i < 96; i++) {
                PackedBits.set(words, 0, 1, bits, i, (i * 7 + 3) & ((1 << bits) - 1));
            }
            for (int i = 0; i < 96; i++) {
                assertEquals((i * 7 + 3) & ((1 << bits) - 1), PackedBits.get(words, 0, 1, bits, i), bits + " bits, value " + i);
            }
        }
        // 3-bit value 10 straddles words 0 and 1 exactly as AutoGPTQ packs it: bits 30-31, then bit 0.
        int[] w = new int[3];
        PackedBits.set(w, 0, 1, 3, 10, 0b101);
        assertEquals(0b01 << 30, w[0]);
        assertEquals(0b1, w[1]);
    }

    @Test
    void v1ZerosAreStoredMinusOneWithNoWrap() {
        assertEquals(7, GptqFormat.GPTQ.storedFromZero(8, 4));
        assertEquals(8, GptqFormat.GPTQ.zeroFromStored(7, 4));
        // AutoGPTQ, exllama and vLLM read a stored 15 as 16, not as 0.
        assertEquals(16, GptqFormat.GPTQ.zeroFromStored(15, 4));
        assertEquals(15, GptqFormat.GPTQ.storedFromZero(16, 4));
        assertEquals(256, GptqFormat.GPTQ.zeroFromStored(255, 8));
        assertThrows(ConfigException.class, () -> GptqFormat.GPTQ.storedFromZero(0, 4));
        assertEquals(8, GptqFormat.GPTQ_V2.zeroFromStored(8, 4));
        assertEquals(15, GptqFormat.GPTQ_V2.zeroFromStored(15, 4));
        Tensor v1 = Tensor.ofInts(Shape.of(1, 1), 0x77777777);
        assertEquals(0x88888888, GptqPacker.qzerosV1ToV2(v1, 4, 8).toIntArray()[0]);
        String msg = assertThrows(ConfigException.class,
                () -> GptqPacker.qzerosV1ToV2(Tensor.ofInts(Shape.of(1, 1), 0x7777777F), 4, 8)).getMessage();
        assertTrue(msg.contains("zero point 16"), msg);
    }
}

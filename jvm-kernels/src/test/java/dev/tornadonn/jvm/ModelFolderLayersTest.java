package dev.tornadonn.jvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tornadonn.core.Activation;
import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.io.Checkpoint;
import dev.tornadonn.core.io.SafetensorsWriter;
import dev.tornadonn.core.numeric.Float8Format;
import dev.tornadonn.core.weights.WeightKind;
import dev.tornadonn.layers.Linear;
import dev.tornadonn.layers.LinearSpec;
import dev.tornadonn.layers.MLP;
import dev.tornadonn.layers.checkpoint.CheckpointLayers;
import dev.tornadonn.layers.quant.Float8InputScaleSpec;
import dev.tornadonn.layers.quant.Float8WeightScaleSpec;
import dev.tornadonn.layers.quant.GptqConfig;
import dev.tornadonn.layers.quant.GptqFormat;
import dev.tornadonn.layers.quant.GptqLinearConfig;
import dev.tornadonn.layers.quant.GptqPacker;
import dev.tornadonn.reference.Comparison;
import dev.tornadonn.reference.Fp8Oracle;
import dev.tornadonn.reference.GptqOracle;
import dev.tornadonn.reference.Int8Oracle;
import dev.tornadonn.layers.quant.Int8Scheme;
import dev.tornadonn.reference.Oracle;
import dev.tornadonn.reference.RandomTensors;
import dev.tornadonn.reference.Tolerance;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Layers read from Hugging Face model folders with nothing but the folder: the format from the
 * tensors, the settings from config.json or quantize_config.json, shards through the index.
 */
class ModelFolderLayersTest {
    private static final long SEED = Long.getLong("tornadonn.seed", System.nanoTime());
    private static final DeviceRef CPU = DeviceRef.cpu(0);
    private static final String MLP_PREFIX = "model.layers.0.mlp";

    static {
        System.out.println("ModelFolderLayersTest seed " + SEED + " (rerun with -Dtornadonn.seed=" + SEED + ")");
    }

    @TempDir
    Path dir;

    /** Writes {@code tensors} as transformers does: one shard per map, an index naming each key's shard. */
    static void writeFolder(Path dir, List<Map<String, Tensor>> shards, String config) throws IOException {
        StringBuilder map = new StringBuilder();
        for (int i = 0; i < shards.size(); i++) {
            String file = String.format("model-%05d-of-%05d.safetensors", i + 1, shards.size());
            SafetensorsWriter.write(dir.resolve(file), shards.get(i));
            for (String key : shards.get(i).keySet()) {
                map.append(map.isEmpty() ? "" : ",\n").append("  \"").append(key).append("\": \"").append(file).append('"');
            }
        }
        Files.writeString(dir.resolve("model.safetensors.index.json"), "{\"metadata\": {}, \"weight_map\": {\n" + map + "\n}}\n");
        if (config != null) {
            Files.writeString(dir.resolve("config.json"), config);
        }
    }

    @Test
    void aDenseMlpShardedOverTwoFilesMatchesTheOracle() throws IOException {
        SplittableRandom rnd = new SplittableRandom(SEED);
        int h = 48, f = 80, m = 3;
        Map<String, Tensor> a = new LinkedHashMap<>();
        Map<String, Tensor> b = new LinkedHashMap<>();
        a.put(MLP_PREFIX + ".gate_proj.weight", RandomTensors.uniform(DType.BF16, Shape.of(f, h), rnd));
        a.put(MLP_PREFIX + ".up_proj.weight", RandomTensors.uniform(DType.BF16, Shape.of(f, h), rnd));
        b.put(MLP_PREFIX + ".down_proj.weight", RandomTensors.uniform(DType.BF16, Shape.of(h, f), rnd));
        writeFolder(dir, List.of(a, b), "{\"torch_dtype\": \"bfloat16\"}");
        Tensor x = RandomTensors.uniform(DType.F32, Shape.of(m, h), rnd);
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            MLP mlp = MLP.of(CheckpointLayers.of(ckpt, CPU).mlp(MLP_PREFIX), Activation.SILU, CPU);
            double[] ref = Oracle.mlp(Oracle.decode(x), m, h, f, Activation.SILU, Oracle.decode(a.get(MLP_PREFIX + ".gate_proj.weight")),
                    null, Oracle.decode(a.get(MLP_PREFIX + ".up_proj.weight")), null,
                    Oracle.decode(b.get(MLP_PREFIX + ".down_proj.weight")), null);
            check(mlp.forward(x), ref);
        }
    }

    /** A GPTQ MLP, a dense lm_head beside it; the settings from config.json or, in older checkpoints, quantize_config.json. */
    @Test
    void aGptqFolderReadsItsSettingsFromEitherConfigFile() throws IOException {
        for (boolean oldStyle : new boolean[] {false, true}) {
            Path folder = Files.createDirectories(dir.resolve(oldStyle ? "autogptq" : "transformers"));
            SplittableRandom rnd = new SplittableRandom(SEED + (oldStyle ? 1 : 2));
            int h = 64, f = 96, vocab = 40, m = 2;
            GptqConfig q = new GptqConfig(4, 32, false, true, GptqFormat.GPTQ);
            Map<String, Tensor> gate = pack(rnd, new GptqLinearConfig(h, f, q, DType.F16, CPU, false, MLP_PREFIX + ".gate_proj"));
            Map<String, Tensor> up = pack(rnd, new GptqLinearConfig(h, f, q, DType.F16, CPU, false, MLP_PREFIX + ".up_proj"));
            Map<String, Tensor> down = pack(rnd, new GptqLinearConfig(f, h, q, DType.F16, CPU, false, MLP_PREFIX + ".down_proj"));
            Tensor lmHead = RandomTensors.uniform(DType.BF16, Shape.of(vocab, h), rnd);
            Map<String, Tensor> first = new LinkedHashMap<>(gate);
            first.putAll(up);
            Map<String, Tensor> second = new LinkedHashMap<>(down);
            second.put("lm_head.weight", lmHead);
            String settings = "\"bits\": 4, \"group_size\": 32, \"desc_act\": false, \"sym\": true";
            if (oldStyle) {
                writeFolder(folder, List.of(first, second), "{\"torch_dtype\": \"float16\"}");
                Files.writeString(folder.resolve("quantize_config.json"), "{" + settings + "}");
            } else {
                writeFolder(folder, List.of(first, second), "{\"quantization_config\": {\"quant_method\": \"gptq\", " + settings
                        + ", \"modules_to_not_convert\": [\"lm_head\"]}}");
            }
            Tensor x = RandomTensors.uniform(DType.F32, Shape.of(m, h), rnd);
            try (Checkpoint ckpt = Checkpoint.open(folder)) {
                CheckpointLayers layers = CheckpointLayers.of(ckpt, CPU);
                double[] g = dequantize(gate, MLP_PREFIX + ".gate_proj");
                double[] u = dequantize(up, MLP_PREFIX + ".up_proj");
                double[] d = dequantize(down, MLP_PREFIX + ".down_proj");
                MLP mlp = MLP.of(layers.mlp(MLP_PREFIX), Activation.SILU, CPU);
                check(mlp.forward(x), Oracle.mlp(Oracle.decode(x), m, h, f, Activation.SILU, g, null, u, null, d, null));

                LinearSpec downSpec = layers.linearSpec(MLP_PREFIX + ".down_proj");
                assertEquals(WeightKind.GROUP_QUANTIZED, CheckpointLayers.kind(downSpec));
                Tensor hx = RandomTensors.uniform(DType.F32, Shape.of(m, f), rnd);
                check(Linear.load(downSpec, ckpt).forward(hx), Oracle.linear(Oracle.decode(hx), m, f, d, h, null));

                Linear head = Linear.load(layers.linearSpec("lm_head"), ckpt);
                assertEquals(WeightKind.DENSE, head.weightKind());
                check(head.forward(x), Oracle.linear(Oracle.decode(x), m, h, Oracle.decode(lmHead), vocab, null));
            }
        }
    }

    @Test
    void anFp8BlockScaledLayerWithWeightScaleInvMatchesTheOracle() throws IOException {
        SplittableRandom rnd = new SplittableRandom(SEED + 3);
        int n = 200, k = 320, m = 3;
        byte[] codes = new byte[n * k];
        for (int i = 0; i < codes.length; i++) {
            int c = rnd.nextInt(256);
            codes[i] = (byte) ((c & 0x7F) == 0x7F ? c & 0xF0 : c); // no NaN codes
        }
        Tensor weight = Tensor.allocate(DType.F8_E4M3FN, Shape.of(n, k));
        java.lang.foreign.MemorySegment.copy(java.lang.foreign.MemorySegment.ofArray(codes), 0, weight.data(), 0, codes.length);
        int sn = (n + 127) / 128;
        int sk = (k + 127) / 128;
        float[] scales = new float[sn * sk];
        for (int i = 0; i < scales.length; i++) {
            scales[i] = (float) rnd.nextDouble(1e-3, 1e-2);
        }
        String p = "model.layers.0.self_attn.o_proj";
        writeFolder(dir, List.of(Map.of(p + ".weight", weight, p + ".weight_scale_inv", Tensor.of(scales, sn, sk))),
                "{\"quantization_config\": {\"quant_method\": \"fp8\", \"activation_scheme\": \"dynamic\", "
                        + "\"weight_block_size\": [128, 128]}}");
        float[] x = RandomTensors.uniform(DType.F32, Shape.of(m, k), rnd).toFloatArray();
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            LinearSpec spec = CheckpointLayers.of(ckpt, CPU).linearSpec(p);
            assertEquals(WeightKind.FP8, CheckpointLayers.kind(spec));
            assertEquals(DType.BF16, spec.outputDType()); // MAX's fp8 layers give bf16; compared here before that rounding
            Linear layer = Linear.of(spec.read(ckpt), CPU);
            double[] wq = new double[n * k];
            for (int i = 0; i < wq.length; i++) {
                wq[i] = Float8Format.E4M3FN.toFloat(codes[i]);
            }
            double[] ref = Fp8Oracle.linear(x, m, k, Float8Format.E4M3FN,
                    Float8InputScaleSpec.dynamicBlock(128, null), 1f, wq, n, Float8WeightScaleSpec.block(128, 128), scales, null);
            check(layer.forward(Tensor.of(x, m, k)), ref);
        }
    }

    /**
     * llm-compressor's W8A8 INT8 preset as it saves a model: int8 channel-scaled weights with BF16
     * scales, inputs quantised per token at run time, lm_head left dense by the config's ignore
     * list. The MLP fuses gate and up (one input quantisation) and quantises its hidden
     * activations per token again for down_proj.
     */
    @Test
    void anInt8W8a8FolderRunsItsMlpAndItsDenseHead() throws IOException {
        SplittableRandom rnd = new SplittableRandom(SEED + 4);
        int h = 64, f = 96, vocab = 40, m = 3;
        Map<String, Tensor> first = new LinkedHashMap<>();
        Map<String, Tensor> second = new LinkedHashMap<>();
        Map<String, byte[]> codes = new LinkedHashMap<>();
        Map<String, float[]> scales = new LinkedHashMap<>();
        for (String proj : List.of("gate_proj", "up_proj", "down_proj")) {
            int n = proj.equals("down_proj") ? h : f;
            int k = proj.equals("down_proj") ? f : h;
            byte[] c = new byte[n * k];
            for (int i = 0; i < c.length; i++) {
                c[i] = (byte) rnd.nextInt(-128, 128);
            }
            Tensor w = Tensor.allocate(DType.I8, Shape.of(n, k));
            java.lang.foreign.MemorySegment.copy(java.lang.foreign.MemorySegment.ofArray(c), 0, w.data(), 0, c.length);
            Tensor s = Tensor.allocate(DType.BF16, Shape.of(n, 1));
            for (int j = 0; j < n; j++) {
                s.setFloat(j, (float) rnd.nextDouble(1e-3, 1e-2));
            }
            Map<String, Tensor> shard = proj.equals("down_proj") ? second : first;
            shard.put(MLP_PREFIX + "." + proj + ".weight", w);
            shard.put(MLP_PREFIX + "." + proj + ".weight_scale", s);
            codes.put(proj, c);
            scales.put(proj, s.toFloatArray());
        }
        Tensor lmHead = RandomTensors.uniform(DType.BF16, Shape.of(vocab, h), rnd);
        second.put("lm_head.weight", lmHead);
        String args = "\"num_bits\": 8, \"type\": \"int\", \"symmetric\": true, \"group_size\": null, "
                + "\"block_structure\": null, \"actorder\": null, \"observer_kwargs\": {}";
        writeFolder(dir, List.of(first, second), "{\"torch_dtype\": \"bfloat16\", \"quantization_config\": {"
                + "\"quant_method\": \"compressed-tensors\", \"format\": \"int-quantized\", \"quantization_status\": "
                + "\"compressed\", \"ignore\": [\"lm_head\"], \"config_groups\": {\"group_0\": {\"targets\": [\"Linear\"], "
                + "\"weights\": {" + args + ", \"dynamic\": false, \"strategy\": \"channel\", \"observer\": \"minmax\"}, "
                + "\"input_activations\": {" + args + ", \"dynamic\": true, \"strategy\": \"token\", \"observer\": null}, "
                + "\"output_activations\": null}}}}");
        Int8Scheme scheme = Int8Scheme.of(Int8Scheme.WeightScale.CHANNEL, Int8Scheme.InputScale.DYNAMIC_TOKEN, true);
        Tensor x = RandomTensors.uniform(DType.F32, Shape.of(m, h), rnd);
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            CheckpointLayers layers = CheckpointLayers.of(ckpt, CPU);
            assertEquals(WeightKind.INT8, CheckpointLayers.kind(layers.linearSpec(MLP_PREFIX + ".down_proj")));
            assertEquals(WeightKind.DENSE, CheckpointLayers.kind(layers.linearSpec("lm_head")));
            double[] gate = Int8Oracle.linear(x.toFloatArray(), m, h, scheme, 0f, 0, codes.get("gate_proj"), f,
                    scales.get("gate_proj"), null);
            double[] up = Int8Oracle.linear(x.toFloatArray(), m, h, scheme, 0f, 0, codes.get("up_proj"), f,
                    scales.get("up_proj"), null);
            float[] hidden = new float[m * f]; // f32, as the kernels hold it before quantising it per token
            for (int i = 0; i < hidden.length; i++) {
                hidden[i] = (float) (Oracle.activate(Activation.SILU, gate[i]) * up[i]);
            }
            double[] ref = Int8Oracle.linear(hidden, m, f, scheme, 0f, 0, codes.get("down_proj"), h, scales.get("down_proj"), null);
            MLP mlp = MLP.of(layers.mlp(MLP_PREFIX), Activation.SILU, CPU);
            // The hidden activations differ from the oracle's by f32 rounding, which can move one of
            // them across a rounding boundary of its int8 code: a tolerance that one such step passes.
            Comparison c = Comparison.of(mlp.forward(x).toFloatArray(), ref);
            assertTrue(c.within(new Tolerance(1e-3, 1e-2)), () -> c + " (seed " + SEED + ")");

            Linear head = Linear.load(layers.linearSpec("lm_head"), ckpt);
            check(head.forward(x), Oracle.linear(Oracle.decode(x), m, h, Oracle.decode(lmHead), vocab, null));
        }
    }

    private static Map<String, Tensor> pack(SplittableRandom rnd, GptqLinearConfig c) {
        float[] w = RandomTensors.uniform(DType.F32, Shape.of(c.outDim(), c.inDim()), rnd).toFloatArray();
        return new LinkedHashMap<>(GptqPacker.pack(w, c, null));
    }

    private static double[] dequantize(Map<String, Tensor> t, String p) {
        return GptqOracle.dequantize(t.get(p + ".qweight"), t.get(p + ".qzeros"), t.get(p + ".scales"), null, 4, 32, true);
    }

    private static void check(Tensor y, double[] ref) {
        Comparison c = Comparison.of(y.toFloatArray(), ref);
        assertTrue(c.within(Tolerance.F32_ACCUMULATION), () -> c + " (seed " + SEED + ")");
    }
}

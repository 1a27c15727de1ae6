package dev.tornadonn.jvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tornadonn.core.Activation;
import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.io.Checkpoint;
import dev.tornadonn.core.weights.DenseMatrix;
import dev.tornadonn.core.weights.Fp8Matrix;
import dev.tornadonn.core.weights.Fp8WeightScale;
import dev.tornadonn.layers.Linear;
import dev.tornadonn.layers.LinearSpec;
import dev.tornadonn.layers.MLP;
import dev.tornadonn.layers.MlpWeights;
import dev.tornadonn.layers.checkpoint.CheckpointLayers;
import dev.tornadonn.layers.quant.Float8InputScaleSpec;
import dev.tornadonn.layers.quant.Float8WeightScaleSpec;
import dev.tornadonn.layers.quant.Fp8LinearConfig;
import dev.tornadonn.layers.quant.GptqConfig;
import dev.tornadonn.layers.quant.GptqFormat;
import dev.tornadonn.layers.quant.GptqLinearConfig;
import dev.tornadonn.layers.quant.GptqPacker;
import dev.tornadonn.core.numeric.Float8Format;
import dev.tornadonn.reference.Comparison;
import dev.tornadonn.reference.Fp8Oracle;
import dev.tornadonn.reference.GptqOracle;
import dev.tornadonn.reference.Oracle;
import dev.tornadonn.reference.RandomTensors;
import dev.tornadonn.reference.Tolerance;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Layouts the quantisation tools write that were once refused, each in a model folder laid out
 * as its tool lays it out, read through {@link CheckpointLayers} and checked against the float64
 * oracle: compressed-tensors with F16 scales, transformers' FineGrainedFP8 static
 * ({@code activation_scale}), AutoFP8 dynamic (one scalar weight scale), a {@code [1, 1]} scale
 * read as the config says, GPTQ with a partial last group and v1 zeros of 2^bits, and Phi-3's
 * fused {@code gate_up_proj}.
 */
class ToolLayoutsTest {
    private static final long SEED = Long.getLong("tornadonn.seed", System.nanoTime());
    private static final DeviceRef CPU = DeviceRef.cpu(0);
    private static final String P = "model.layers.0.self_attn.o_proj";

    static {
        System.out.println("ToolLayoutsTest seed " + SEED + " (rerun with -Dtornadonn.seed=" + SEED + ")");
    }

    @TempDir
    Path dir;

    private static Tensor scales(DType dtype, Shape shape, SplittableRandom rnd) {
        Tensor t = Tensor.allocate(dtype, shape);
        for (long i = 0; i < t.numel(); i++) {
            t.setFloat(i, (float) rnd.nextDouble(2e-3, 2e-2));
        }
        return t;
    }

    /** The layer under {@link #P} of the folder, its spec checked by {@code expect}, against the fp8 oracle. */
    private void checkFp8(String config, Map<String, Tensor> tensors, Float8InputScaleSpec in, Float8WeightScaleSpec ws,
                          float staticScale, String scaleKey, SplittableRandom rnd) throws IOException {
        ModelFolderLayersTest.writeFolder(dir, List.of(tensors), config);
        Tensor w = tensors.get(P + ".weight");
        int n = w.shape().dim(0);
        int k = w.shape().dim(1);
        int m = 3;
        float[] x = RandomTensors.uniform(DType.F32, Shape.of(m, k), rnd).toFloatArray();
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            LinearSpec spec = CheckpointLayers.of(ckpt, CPU).linearSpec(P);
            Fp8LinearConfig fp8 = assertInstanceOf(Fp8LinearConfig.class, spec);
            assertEquals(in, fp8.float8().inputScale());
            assertEquals(ws, fp8.float8().weightScale());
            Linear layer = Linear.of(spec.read(ckpt), CPU);
            double[] ref = Fp8Oracle.linear(x, m, k, Float8Format.E4M3FN, in, staticScale, Oracle.decode(w), n, ws,
                    tensors.get(scaleKey).toFloatArray(), null);
            check(layer.forward(Tensor.of(x, m, k)), ref);
        }
    }

    @Test
    void compressedTensorsWithF16ScalesMatchesTheOracle() throws IOException {
        SplittableRandom rnd = new SplittableRandom(SEED);
        int n = 96, k = 160;
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put(P + ".weight", RandomTensors.uniform(DType.F8_E4M3FN, Shape.of(n, k), rnd));
        t.put(P + ".weight_scale", scales(DType.F16, Shape.of(n, 1), rnd));
        float is = DType.F16.round(0.0173f);
        t.put(P + ".input_scale", Tensor.of(DType.F16, Shape.of(1), is));
        String config = """
                {"torch_dtype": "float16", "quantization_config": {"quant_method": "compressed-tensors",
                 "format": "float-quantized", "config_groups": {"group_0": {"targets": ["Linear"],
                 "weights": {"num_bits": 8, "type": "float", "strategy": "channel", "dynamic": false, "symmetric": true},
                 "input_activations": {"num_bits": 8, "type": "float", "strategy": "tensor", "dynamic": false,
                 "symmetric": true}}}, "ignore": ["lm_head"]}}""";
        checkFp8(config, t, Float8InputScaleSpec.staticTensor(), Float8WeightScaleSpec.rowwise(), is, P + ".weight_scale", rnd);
    }

    @Test
    void fineGrainedFp8StaticReadsActivationScale() throws IOException {
        SplittableRandom rnd = new SplittableRandom(SEED + 1);
        int n = 200, k = 320;
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put(P + ".weight", RandomTensors.uniform(DType.F8_E4M3FN, Shape.of(n, k), rnd));
        t.put(P + ".weight_scale_inv", scales(DType.F32, Shape.of(2, 3), rnd));
        t.put(P + ".activation_scale", Tensor.of(DType.F32, Shape.of(), 0.0031f));
        checkFp8("{\"quantization_config\": {\"quant_method\": \"fp8\", \"activation_scheme\": \"static\", "
                        + "\"weight_block_size\": [128, 128]}}", t, Float8InputScaleSpec.staticTensor(),
                Float8WeightScaleSpec.block(128, 128), 0.0031f, P + ".weight_scale_inv", rnd);
    }

    @Test
    void autoFp8DynamicHasOneScalarWeightScale() throws IOException {
        SplittableRandom rnd = new SplittableRandom(SEED + 2);
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put(P + ".weight", RandomTensors.uniform(DType.F8_E4M3FN, Shape.of(200, 320), rnd));
        t.put(P + ".weight_scale", scales(DType.F32, Shape.of(), rnd));
        checkFp8("{\"quantization_config\": {\"quant_method\": \"fp8\", \"activation_scheme\": \"dynamic\"}}", t,
                Float8InputScaleSpec.dynamicTensor(null), Float8WeightScaleSpec.tensor(), 0f, P + ".weight_scale", rnd);
    }

    /**
     * A {@code [1, 1]} scale on a weight of at most 128 × 128 fits both a per-tensor and a 128 × 128
     * block scale: the config decides, never the shape. No weight_block_size: per tensor (x scaled
     * per tensor); weight_block_size [128, 128]: a block (x scaled per token and block).
     */
    @Test
    void aOneByOneScaleIsABlockOnlyWhenTheConfigSaysSo() throws IOException {
        SplittableRandom rnd = new SplittableRandom(SEED + 3);
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put(P + ".weight", RandomTensors.uniform(DType.F8_E4M3FN, Shape.of(96, 64), rnd));
        t.put(P + ".weight_scale", scales(DType.F32, Shape.of(1, 1), rnd));
        checkFp8("{\"quantization_config\": {\"quant_method\": \"fp8\", \"activation_scheme\": \"dynamic\"}}", t,
                Float8InputScaleSpec.dynamicTensor(null), Float8WeightScaleSpec.tensor(), 0f, P + ".weight_scale", rnd);
        checkFp8("{\"quantization_config\": {\"quant_method\": \"fp8\", \"activation_scheme\": \"dynamic\", "
                        + "\"weight_block_size\": [128, 128]}}", t, Float8InputScaleSpec.dynamicBlock(128, null),
                Float8WeightScaleSpec.block(128, 128), 0f, P + ".weight_scale", rnd);
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            Fp8Matrix m = (Fp8Matrix) CheckpointLayers.of(ckpt, CPU).linear(P).weight();
            assertInstanceOf(Fp8WeightScale.Block.class, m.weightScale());
        }
    }

    /**
     * SmolLM-135M's shapes: in_dim 576 in groups of 128, so the last group holds 64 channels
     * (AutoGPTQ sizes scales and qzeros ceil(576/128) = 5); v1 zeros, some stored as 15 (zero 16:
     * every weight of that group negative, as AutoGPTQ, exllama and vLLM read it).
     */
    @Test
    void gptqWithAPartialLastGroupAndV1ZerosOfSixteen() throws IOException {
        SplittableRandom rnd = new SplittableRandom(SEED + 4);
        int k = 576, n = 64, m = 3;
        GptqConfig q = new GptqConfig(4, 128, false, false, GptqFormat.GPTQ);
        GptqLinearConfig c = new GptqLinearConfig(k, n, q, DType.F16, CPU, false, P);
        float[] w = RandomTensors.uniform(DType.F32, Shape.of(n, k), rnd).toFloatArray();
        Map<String, Tensor> t = new LinkedHashMap<>(GptqPacker.pack(w, c, null));
        t.remove(P + ".g_idx");
        assertEquals(Shape.of(5, n), t.get(P + ".scales").shape());
        int[] words = t.get(P + ".qzeros").toIntArray();
        for (int i = 0; i < words.length; i += 3) {
            words[i] |= 0xF; // the first column of every third word: stored 15, zero 16
        }
        Tensor qzeros = Tensor.ofInts(t.get(P + ".qzeros").shape(), words);
        t.put(P + ".qzeros", qzeros);
        ModelFolderLayersTest.writeFolder(dir, List.of(t), "{\"quantization_config\": {\"quant_method\": \"gptq\", "
                + "\"bits\": 4, \"group_size\": 128, \"desc_act\": false, \"sym\": false}}");
        Tensor x = RandomTensors.uniform(DType.F32, Shape.of(m, k), rnd);
        double[] wd = GptqOracle.dequantize(t.get(P + ".qweight"), qzeros, t.get(P + ".scales"), null, 4, 128, true);
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            Linear layer = Linear.of(CheckpointLayers.of(ckpt, CPU).linear(P), CPU);
            check(layer.forward(x), Oracle.linear(Oracle.decode(x), m, k, wd, n, null));
        }
        // The zero of 16 is there: column 0's first group decodes as (q − 16)·s, all of it ≤ −s.
        double s = t.get(P + ".scales").getFloat(0);
        assertTrue(wd[0] <= -s && wd[0] >= -16 * s, () -> "W[0,0] = " + wd[0] + " with scale " + s);
    }

    /** Phi-3's MLP: one (2F, H) gate_up_proj, gate rows first, split into two views of the checkpoint. */
    @Test
    void phi3FusedGateUpProjMatchesTheOracle() throws IOException {
        SplittableRandom rnd = new SplittableRandom(SEED + 5);
        int h = 96, f = 160, m = 4;
        String mlp = "model.layers.0.mlp";
        Tensor gateUp = RandomTensors.uniform(DType.BF16, Shape.of(2 * f, h), rnd);
        Tensor down = RandomTensors.uniform(DType.BF16, Shape.of(h, f), rnd);
        ModelFolderLayersTest.writeFolder(dir, List.of(Map.of(mlp + ".gate_up_proj.weight", gateUp, mlp + ".down_proj.weight", down)),
                "{\"model_type\": \"phi3\", \"torch_dtype\": \"bfloat16\"}");
        Tensor x = RandomTensors.uniform(DType.F32, Shape.of(m, h), rnd);
        double[] gu = Oracle.decode(gateUp);
        double[] gate = java.util.Arrays.copyOfRange(gu, 0, f * h);
        double[] up = java.util.Arrays.copyOfRange(gu, f * h, 2 * f * h);
        double[] ref = Oracle.mlp(Oracle.decode(x), m, h, f, Activation.SILU, gate, null, up, null, Oracle.decode(down), null);
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            MlpWeights weights = CheckpointLayers.of(ckpt, CPU).mlp(mlp);
            assertEquals(f, weights.feedForwardDim());
            // Views of the one mapped tensor, not copies: up starts F rows after gate.
            long gateAt = ((DenseMatrix) weights.gate().weight()).values().data().address();
            long upAt = ((DenseMatrix) weights.up().weight()).values().data().address();
            assertEquals(gateAt + 2L * f * h, upAt);
            assertEquals(ckpt.get(mlp + ".gate_up_proj.weight").data().address(), gateAt);
            check(MLP.of(weights, Activation.SILU, CPU).forward(x), ref);
        }
    }

    private static void check(Tensor y, double[] ref) {
        Comparison c = Comparison.of(y.toFloatArray(), ref);
        assertTrue(c.within(Tolerance.F32_ACCUMULATION), () -> c + " (seed " + SEED + ")");
    }
}

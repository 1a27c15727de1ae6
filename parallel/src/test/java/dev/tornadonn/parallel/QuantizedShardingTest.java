package dev.tornadonn.parallel;

import dev.tornadonn.core.ConfigException;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.layers.sharding.Split;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.io.TensorSource;
import dev.tornadonn.core.numeric.Float8Format;
import dev.tornadonn.core.Activation;
import dev.tornadonn.layers.Layer;
import dev.tornadonn.layers.Linear;
import dev.tornadonn.layers.LinearSpec;
import dev.tornadonn.layers.LinearWeights;
import dev.tornadonn.layers.MLP;
import dev.tornadonn.layers.MlpWeights;
import dev.tornadonn.layers.quant.Float8Config;
import dev.tornadonn.layers.quant.Float8InputScaleSpec;
import dev.tornadonn.layers.quant.Float8WeightScaleSpec;
import dev.tornadonn.layers.quant.Fp8LinearConfig;
import dev.tornadonn.layers.quant.GptqConfig;
import dev.tornadonn.layers.quant.GptqFormat;
import dev.tornadonn.layers.quant.GptqLinearConfig;
import dev.tornadonn.layers.quant.GptqPacker;
import dev.tornadonn.layers.quant.Int8LinearConfig;
import dev.tornadonn.layers.quant.Int8Scheme;
import dev.tornadonn.layers.sharding.ShardingStrategy;
import dev.tornadonn.reference.Comparison;
import dev.tornadonn.reference.Fp8Oracle;
import dev.tornadonn.reference.GptqOracle;
import dev.tornadonn.reference.Int8Oracle;
import dev.tornadonn.reference.Oracle;
import dev.tornadonn.reference.RandomTensors;
import dev.tornadonn.reference.Tolerance;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** GPTQ, FP8 and INT8 layers cut over cpu devices: concatenated or summed shards equal the unsharded oracle. */
class QuantizedShardingTest {
    private static final long SEED = System.nanoTime();
    private static final HostCommunicator COMM = new HostCommunicator();

    static {
        System.out.println("QuantizedShardingTest seed " + SEED);
    }

    private static List<DeviceRef> cpus(int n) {
        return IntStream.range(0, n).mapToObj(DeviceRef::cpu).toList();
    }

    /** Shard {@code i} of {@code full} cut by {@code s}, prepared on cpu:i only, as a sharded layer's are. */
    private static List<Linear> shard(LinearWeights full, ShardingStrategy s, List<DeviceRef> devices, DType outputDType) {
        s.checkDevices(devices, "Linear '" + full.name() + "'");
        List<LinearWeights> cut = IntStream.range(0, devices.size()).mapToObj(i -> full.shard(s, i)).toList();
        return IntStream.range(0, devices.size()).mapToObj(i -> Linear.of(cut.get(i), devices.get(i), outputDType)).toList();
    }

    /** Row shards concatenate along the output; input shards (bias on the first) all-reduce. */
    private static Tensor combine(List<? extends Layer> shards, Tensor x, boolean splitsInput) {
        int n = shards.size();
        List<Tensor> ys = new ArrayList<>();
        Split split = new Split(x.shape().dim(-1), n);
        for (int i = 0; i < n; i++) {
            Tensor xi = splitsInput ? x.slice(x.shape().rank() - 1, split.start(i), split.end(i)) : x;
            ys.add(shards.get(i).forward(xi.to(DeviceRef.cpu(i))));
        }
        return splitsInput ? COMM.allReduceSum(ys).get(0) : Tensor.concat(ys, ys.get(0).shape().rank() - 1);
    }

    @ParameterizedTest(name = "{0}-bit, {1} x {2}, over {3}, columns {4}, act-order {5}")
    @CsvSource({"4, 1024, 1000, 3, false, false", "4, 1024, 1000, 3, true, true", "3, 384, 96, 5, true, false",
            "8, 256, 64, 8, false, true", "2, 512, 160, 4, true, true", "4, 128, 32, 1, false, false"})
    void gptqShardsEqualTheUnshardedLayer(int bits, int k, int n, int devices, boolean byColumn, boolean actOrder) {
        SplittableRandom rnd = new SplittableRandom(SEED + k * 7L + devices);
        GptqLinearConfig config = new GptqLinearConfig(k, n, new GptqConfig(bits, 128, actOrder, false, GptqFormat.GPTQ),
                DType.F16, DeviceRef.cpu(0), true, "");
        int[] groups = null;
        if (actOrder) {
            groups = new int[k];
            for (int c = 0; c < k; c++) {
                groups[c] = (int) ((c * 37L) % k) / 128; // 37 is coprime with every k here: a permutation
            }
        }
        Map<String, Tensor> ckpt = new LinkedHashMap<>(GptqPacker.pack(RandomTensors.uniform(DType.F32, Shape.of(n, k), rnd).toFloatArray(), config, groups));
        ckpt.put("bias", RandomTensors.uniform(DType.F16, Shape.of(n), rnd));
        LinearWeights full = config.read(TensorSource.of(ckpt));
        Tensor x = RandomTensors.uniform(DType.F32, Shape.of(3, k), rnd);
        ShardingStrategy s = byColumn ? ShardingStrategy.columnwise(devices) : ShardingStrategy.rowwise(devices);
        Tensor y = combine(shard(full, s, cpus(devices), config.outputDType()), x, byColumn);
        double[] w = GptqOracle.dequantize(ckpt.get("qweight"), ckpt.get("qzeros"), ckpt.get("scales"), ckpt.get("g_idx"), bits, 128, true);
        double[] ref = Oracle.linear(Oracle.decode(x), 3, k, w, n, Oracle.decode(ckpt.get("bias")));
        Comparison c = Comparison.of(y.toFloatArray(), ref);
        assertTrue(c.within(Tolerance.F32_ACCUMULATION), () -> "seed " + SEED + ": " + c);
    }

    private record Fp8(LinearWeights weights, Fp8LinearConfig config, Map<String, Tensor> ckpt, Float8Config cfg) {
        List<Linear> shard(ShardingStrategy s, int devices) {
            return QuantizedShardingTest.shard(weights, s, cpus(devices), config.outputDType());
        }
    }

    private static Fp8 fp8(int k, int n, Float8Config cfg, SplittableRandom rnd) {
        Map<String, Tensor> ckpt = new LinkedHashMap<>();
        ckpt.put("weight", RandomTensors.uniform(DType.F8_E4M3FN, Shape.of(n, k), rnd));
        Shape scaleShape = cfg.weightScale().scaleShape(n, k);
        Tensor scales = Tensor.allocate(DType.F32, scaleShape);
        for (long i = 0; i < scales.numel(); i++) {
            scales.setFloat(i, (float) rnd.nextDouble(0.005, 0.02));
        }
        ckpt.put("weight_scale", scales);
        if (cfg.inputScale().isStatic()) {
            ckpt.put("input_scale", Tensor.of(DType.F32, Shape.of(), 0.01f));
        }
        ckpt.put("bias", RandomTensors.uniform(DType.F32, Shape.of(n), rnd));
        Fp8LinearConfig lc = Fp8LinearConfig.of(k, n, DType.F8_E4M3FN, cfg.withOutputDType(DType.F32)).withBias(true);
        return new Fp8(lc.read(TensorSource.of(ckpt)), lc, ckpt, cfg);
    }

    private static double[] fp8Reference(Fp8 f, Tensor x, int k, int n) {
        float staticScale = f.cfg().inputScale().isStatic() ? f.ckpt().get("input_scale").getFloat(0) : 0f;
        return Fp8Oracle.linear(x.toFloatArray(), (int) x.shape().leadingNumel(), k, Float8Format.E4M3FN, f.cfg().inputScale(),
                staticScale, Oracle.decode(f.ckpt().get("weight")), n, f.cfg().weightScale(),
                f.ckpt().get("weight_scale").toFloatArray(), Oracle.decode(f.ckpt().get("bias")));
    }

    @Test
    void fp8RowShardsFollowPerRowAndAlignedBlockScales() {
        SplittableRandom rnd = new SplittableRandom(SEED + 1);
        Fp8 perRow = fp8(96, 1000, Float8Config.of(Float8InputScaleSpec.dynamicPerToken(null), Float8WeightScaleSpec.rowwise()), rnd);
        Tensor x = RandomTensors.uniform(DType.F32, Shape.of(4, 96), rnd);
        Tensor y = combine(perRow.shard(ShardingStrategy.rowwise(3), 3), x, false);
        Comparison c = Comparison.of(y.toFloatArray(), fp8Reference(perRow, x, 96, 1000));
        assertTrue(c.within(Tolerance.F32_ACCUMULATION), c::toString);

        Fp8 block = fp8(256, 1024, Float8Config.of(Float8InputScaleSpec.dynamicBlock(128, null), Float8WeightScaleSpec.block(128, 128)), rnd);
        Tensor xb = RandomTensors.uniform(DType.F32, Shape.of(2, 256), rnd);
        Tensor yb = combine(block.shard(ShardingStrategy.rowwise(4), 4), xb, false);
        Comparison cb = Comparison.of(yb.toFloatArray(), fp8Reference(block, xb, 256, 1024));
        assertTrue(cb.within(Tolerance.F32_ACCUMULATION), cb::toString);

        String msg = assertThrows(ConfigException.class,
                () -> block.shard(ShardingStrategy.rowwise(3), 3)).getMessage();
        assertTrue(msg.contains("inside a weight block of 128") && msg.contains("wrong scales"), msg);
    }

    @Test
    void fp8ColumnShardsCutBlocksOnlyWhereTheyAlign() {
        SplittableRandom rnd = new SplittableRandom(SEED + 2);
        Fp8 stat = fp8(512, 40, Float8Config.of(Float8InputScaleSpec.staticTensor(), Float8WeightScaleSpec.block(128, 128)), rnd);
        Tensor x = RandomTensors.uniform(DType.F32, Shape.of(3, 512), rnd);
        Tensor y = combine(stat.shard(ShardingStrategy.columnwise(4), 4), x, true);
        Comparison c = Comparison.of(y.toFloatArray(), fp8Reference(stat, x, 512, 40));
        assertTrue(c.within(Tolerance.F32_ACCUMULATION), c::toString);

        assertThrows(ConfigException.class,
                () -> stat.shard(ShardingStrategy.columnwise(3), 3), "171 columns straddle a block");
        assertThrows(ConfigException.class,
                () -> stat.shard(ShardingStrategy.columnwise(4), 3), "device count mismatch");
    }

    /** {@code x[:, from:to]} of an {@code m × k} row-major matrix. */
    private static float[] columns(float[] x, int m, int k, int from, int to) {
        float[] out = new float[m * (to - from)];
        for (int i = 0; i < m; i++) {
            System.arraycopy(x, i * k + from, out, i * (to - from), to - from);
        }
        return out;
    }

    private static double[] columns(double[] w, int n, int k, int from, int to) {
        double[] out = new double[n * (to - from)];
        for (int j = 0; j < n; j++) {
            System.arraycopy(w, j * k + from, out, j * (to - from), to - from);
        }
        return out;
    }

    private static double[] rows(double[] w, int k, int from, int to) {
        return java.util.Arrays.copyOfRange(w, from * k, to * k);
    }

    private static float[] rows(float[] w, int from, int to) {
        return java.util.Arrays.copyOfRange(w, from, to);
    }

    private static final String FBGEMM = "{\"quant_method\": \"fbgemm_fp8\", \"activation_scale_ub\": 1200.0}";

    /** An fbgemm projection as fbgemm writes it: e4m3 codes, f32 (N, 1) row scales, a bias. */
    private static void fbgemmProjection(Map<String, Tensor> ckpt, String p, int out, int in, SplittableRandom rnd) {
        ckpt.put(p + ".weight", RandomTensors.uniform(DType.F8_E4M3FN, Shape.of(out, in), rnd));
        Tensor scales = Tensor.allocate(DType.F32, Shape.of(out, 1));
        for (int j = 0; j < out; j++) {
            scales.setFloat(j, (float) rnd.nextDouble(0.005, 0.02));
        }
        ckpt.put(p + ".weight_scale", scales);
        ckpt.put(p + ".bias", RandomTensors.uniform(DType.F32, Shape.of(out), rnd));
    }

    /** Per-token fbgemm input scaling over {@code x (m × k)} against rows of {@code wq} with their row scales, in float64. */
    private static double[] fbgemmReference(float[] x, int m, int k, double[] wq, float[] rowScales, int n, double[] bias) {
        return Fp8Oracle.linear(x, m, k, Float8Format.E4M3FN, Float8InputScaleSpec.dynamicPerToken(1200f), 0f, wq, n,
                Float8WeightScaleSpec.rowwise(), rowScales, bias);
    }

    /**
     * fbgemm FP8 (dynamic per-token inputs, row scales) cut along the input features over
     * cpu:0..2, as MAX and vLLM run it: each shard scales its own slice of x, so the reduced sum is
     * the float64 sum of the shards' own products, not the unsharded layer's.
     */
    @Test
    void shardedFbgemmLinearAndMlpScaleEachShardsOwnSliceOfX() {
        SplittableRandom rnd = new SplittableRandom(SEED + 3);
        List<DeviceRef> devices = cpus(3);
        int m = 4;
        int k = 512;
        int n = 96;
        Map<String, Tensor> ckpt = new LinkedHashMap<>();
        fbgemmProjection(ckpt, "o_proj", n, k, rnd);
        int hidden = 256;
        int ffn = 384;
        fbgemmProjection(ckpt, "mlp.gate_proj", ffn, hidden, rnd);
        fbgemmProjection(ckpt, "mlp.up_proj", ffn, hidden, rnd);
        fbgemmProjection(ckpt, "mlp.down_proj", hidden, ffn, rnd);
        dev.tornadonn.layers.checkpoint.CheckpointLayers layers = new dev.tornadonn.layers.checkpoint.CheckpointLayers(
                TensorSource.of(ckpt), java.util.Optional.of(dev.tornadonn.core.io.QuantizationConfig.parse(FBGEMM)),
                java.util.Optional.empty(), DeviceRef.cpu(0), 0);

        // Linear, row-parallel (in_dim split 171/171/170, bias once after the reduction).
        Tensor x = RandomTensors.uniform(DType.F32, Shape.of(m, k), rnd);
        // Shard 0's slice of each row 3.7 times larger: its per-token scale then differs from the
        // others' by far more than rounding, so the shards' own scaling is told from the whole row's.
        for (long i = 0; i < x.numel(); i++) {
            if (i % k < k / 3) {
                x.setFloat(i, x.getFloat(i) * 3.7f);
            }
        }
        float[] xf = x.toFloatArray();
        Tensor y = RowParallelLinear.of(layers.linear("o_proj"), devices, COMM, false, true).forward(x);
        double[] wq = Oracle.decode(ckpt.get("o_proj.weight"));
        float[] ws = ckpt.get("o_proj.weight_scale").toFloatArray();
        double[] ref = new double[m * n];
        double[] bias = Oracle.decode(ckpt.get("o_proj.bias"));
        Split split = new Split(k, 3);
        for (int i = 0; i < 3; i++) {
            int from = split.start(i);
            int to = split.end(i);
            double[] part = fbgemmReference(columns(xf, m, k, from, to), m, to - from, columns(wq, n, k, from, to), ws, n,
                    i == 0 ? bias : null);
            for (int e = 0; e < part.length; e++) {
                ref[e] += part[e];
            }
        }
        Comparison c = Comparison.of(y.toFloatArray(), ref);
        assertTrue(c.within(Tolerance.F32_ACCUMULATION), () -> "row-parallel fbgemm, seed " + SEED + ": " + c);
        // And that is not the unsharded layer: one scale per token over all of x rounds differently.
        Comparison whole = Comparison.of(y.toFloatArray(), fbgemmReference(xf, m, k, wq, ws, n, bias));
        assertTrue(!whole.within(Tolerance.F32_ACCUMULATION), () -> "the shards' own scaling left no trace: " + whole);

        // Column-parallel: every shard sees all of x, so it is the unsharded layer.
        Tensor yc = ColumnParallelLinear.of(layers.linear("o_proj"), devices, COMM).forward(x);
        Comparison cc = Comparison.of(yc.toFloatArray(), fbgemmReference(xf, m, k, wq, ws, n, bias));
        assertTrue(cc.within(Tolerance.F32_ACCUMULATION), () -> "column-parallel fbgemm, seed " + SEED + ": " + cc);

        // MLP, tensor-parallel: gate/up split along ffn (each shard scales all of x), down along ffn
        // (each shard scales its own slice of the hidden activations).
        Tensor xm = RandomTensors.uniform(DType.F32, Shape.of(m, hidden), rnd);
        float[] xmf = xm.toFloatArray();
        TensorParallelMlp tp = TensorParallelMlp.of(layers.mlp("mlp"), Activation.SILU, devices, COMM);
        double[] gq = Oracle.decode(ckpt.get("mlp.gate_proj.weight"));
        double[] uq = Oracle.decode(ckpt.get("mlp.up_proj.weight"));
        double[] dq = Oracle.decode(ckpt.get("mlp.down_proj.weight"));
        float[] gs = ckpt.get("mlp.gate_proj.weight_scale").toFloatArray();
        float[] us = ckpt.get("mlp.up_proj.weight_scale").toFloatArray();
        float[] ds = ckpt.get("mlp.down_proj.weight_scale").toFloatArray();
        double[] gb = Oracle.decode(ckpt.get("mlp.gate_proj.bias"));
        double[] ub = Oracle.decode(ckpt.get("mlp.up_proj.bias"));
        double[] refMlp = Oracle.decode(ckpt.get("mlp.down_proj.bias"));
        double[] refMlpRows = new double[m * hidden];
        for (int r = 0; r < m; r++) {
            System.arraycopy(refMlp, 0, refMlpRows, r * hidden, hidden);
        }
        Split fs = new Split(ffn, 3);
        for (int i = 0; i < 3; i++) {
            int from = fs.start(i);
            int to = fs.end(i);
            int fi = to - from;
            double[] g = fbgemmReference(xmf, m, hidden, rows(gq, hidden, from, to), rows(gs, from, to), fi,
                    java.util.Arrays.copyOfRange(gb, from, to));
            double[] u = fbgemmReference(xmf, m, hidden, rows(uq, hidden, from, to), rows(us, from, to), fi,
                    java.util.Arrays.copyOfRange(ub, from, to));
            float[] h = new float[m * fi]; // the shard's hidden activations, f32 as the kernel holds them
            for (int e = 0; e < h.length; e++) {
                h[e] = (float) (Oracle.activate(Activation.SILU, g[e]) * u[e]);
            }
            double[] part = fbgemmReference(h, m, fi, columns(dq, hidden, ffn, from, to), ds, hidden, null);
            for (int e = 0; e < part.length; e++) {
                refMlpRows[e] += part[e];
            }
        }
        Tensor ym = tp.forward(xm);
        Comparison cm = Comparison.of(ym.toFloatArray(), refMlpRows);
        assertTrue(cm.within(Tolerance.F32_ACCUMULATION), () -> "tensor-parallel fbgemm MLP, seed " + SEED + ": " + cm);
        Tensor ymf = tp.forward(devices.stream().map(xm::to).toList(), new DistributedGemmConfig(true)).get(0);
        Comparison cf = Comparison.of(ymf.toFloatArray(), refMlpRows);
        assertTrue(cf.within(Tolerance.F32_ACCUMULATION), () -> "fused tensor-parallel fbgemm MLP, seed " + SEED + ": " + cf);
    }

    private static final String W8A8_ASYM_TOKEN = "{\"quant_method\": \"compressed-tensors\", \"format\": \"int-quantized\", "
            + "\"config_groups\": {\"group_0\": {\"targets\": [\"Linear\"], \"weights\": {\"num_bits\": 8, \"type\": \"int\", "
            + "\"symmetric\": true, \"dynamic\": false, \"strategy\": \"channel\"}, \"input_activations\": {\"num_bits\": 8, "
            + "\"type\": \"int\", \"symmetric\": false, \"dynamic\": true, \"strategy\": \"token\"}}}}";
    private static final Int8Scheme ASYM_TOKEN = Int8Scheme.of(Int8Scheme.WeightScale.CHANNEL,
            Int8Scheme.InputScale.DYNAMIC_TOKEN, false);

    /** A compressed-tensors int8 projection: I8 codes, BF16 (N, 1) channel scales, a bias. */
    private static void int8Projection(Map<String, Tensor> ckpt, String p, int out, int in, SplittableRandom rnd) {
        Tensor w = Tensor.allocate(DType.I8, Shape.of(out, in));
        for (int i = 0; i < out * in; i++) {
            w.data().set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) rnd.nextInt(-128, 128));
        }
        ckpt.put(p + ".weight", w);
        Tensor scales = Tensor.allocate(DType.BF16, Shape.of(out, 1));
        for (int j = 0; j < out; j++) {
            scales.setFloat(j, (float) rnd.nextDouble(1e-4, 1e-3));
        }
        ckpt.put(p + ".weight_scale", scales);
        ckpt.put(p + ".bias", RandomTensors.uniform(DType.F32, Shape.of(out), rnd));
    }

    private static byte[] codes(Tensor w) {
        return w.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
    }

    private static byte[] columns(byte[] w, int n, int k, int from, int to) {
        byte[] out = new byte[n * (to - from)];
        for (int j = 0; j < n; j++) {
            System.arraycopy(w, j * k + from, out, j * (to - from), to - from);
        }
        return out;
    }

    /**
     * compressed-tensors int8 W8A8 with dynamic per-token asymmetric inputs cut along the input
     * features over cpu:0..2, as vLLM runs it: each shard takes its own min and max, scale and zero
     * point over its slice of x, and the reduced sum is the float64 sum of the shards' own products.
     */
    @Test
    void shardedInt8LinearAndMlpQuantiseEachShardsOwnSliceOfX() {
        SplittableRandom rnd = new SplittableRandom(SEED + 5);
        List<DeviceRef> devices = cpus(3);
        int m = 4;
        int k = 512;
        int n = 96;
        Map<String, Tensor> ckpt = new LinkedHashMap<>();
        int8Projection(ckpt, "o_proj", n, k, rnd);
        int hidden = 256;
        int ffn = 384;
        int8Projection(ckpt, "mlp.gate_proj", ffn, hidden, rnd);
        int8Projection(ckpt, "mlp.up_proj", ffn, hidden, rnd);
        int8Projection(ckpt, "mlp.down_proj", hidden, ffn, rnd);
        dev.tornadonn.layers.checkpoint.CheckpointLayers layers = new dev.tornadonn.layers.checkpoint.CheckpointLayers(
                TensorSource.of(ckpt), java.util.Optional.of(dev.tornadonn.core.io.QuantizationConfig.parse(W8A8_ASYM_TOKEN)),
                java.util.Optional.empty(), DeviceRef.cpu(0), 0);

        Tensor x = RandomTensors.uniform(DType.F32, Shape.of(m, k), rnd);
        for (long i = 0; i < x.numel(); i++) { // shard 0's slice wider and off centre: its own scale and zero point
            if (i % k < k / 3) {
                x.setFloat(i, x.getFloat(i) * 3.7f + 2f);
            }
        }
        float[] xf = x.toFloatArray();
        byte[] wq = codes(ckpt.get("o_proj.weight"));
        float[] ws = ckpt.get("o_proj.weight_scale").toFloatArray();
        double[] bias = Oracle.decode(ckpt.get("o_proj.bias"));
        double[] ref = new double[m * n];
        Split split = new Split(k, 3);
        for (int i = 0; i < 3; i++) {
            int from = split.start(i);
            int to = split.end(i);
            double[] part = Int8Oracle.linear(columns(xf, m, k, from, to), m, to - from, ASYM_TOKEN, 0f, 0,
                    columns(wq, n, k, from, to), n, ws, i == 0 ? bias : null);
            for (int e = 0; e < part.length; e++) {
                ref[e] += part[e];
            }
        }
        Tensor y = RowParallelLinear.of(layers.linear("o_proj"), devices, COMM, false, true).forward(x);
        Comparison c = Comparison.of(y.toFloatArray(), ref);
        assertTrue(c.within(Tolerance.F32_ACCUMULATION), () -> "row-parallel int8, seed " + SEED + ": " + c);
        double[] unsharded = Int8Oracle.linear(xf, m, k, ASYM_TOKEN, 0f, 0, wq, n, ws, bias);
        Comparison whole = Comparison.of(y.toFloatArray(), unsharded);
        assertTrue(!whole.within(Tolerance.F32_ACCUMULATION), () -> "the shards' own quantisation left no trace: " + whole);

        Tensor yc = ColumnParallelLinear.of(layers.linear("o_proj"), devices, COMM).forward(x);
        Comparison cc = Comparison.of(yc.toFloatArray(), unsharded);
        assertTrue(cc.within(Tolerance.F32_ACCUMULATION), () -> "column-parallel int8, seed " + SEED + ": " + cc);

        // MLP, tensor-parallel: gate/up split along ffn, down along ffn, quantising its shard of
        // the hidden activations per token.
        Tensor xm = RandomTensors.uniform(DType.F32, Shape.of(m, hidden), rnd);
        float[] xmf = xm.toFloatArray();
        double[] refMlp = new double[m * hidden];
        double[] db = Oracle.decode(ckpt.get("mlp.down_proj.bias"));
        for (int r = 0; r < m; r++) {
            System.arraycopy(db, 0, refMlp, r * hidden, hidden);
        }
        Split fs = new Split(ffn, 3);
        for (int i = 0; i < 3; i++) {
            int from = fs.start(i);
            int to = fs.end(i);
            int fi = to - from;
            double[] g = Int8Oracle.linear(xmf, m, hidden, ASYM_TOKEN, 0f, 0,
                    java.util.Arrays.copyOfRange(codes(ckpt.get("mlp.gate_proj.weight")), from * hidden, to * hidden), fi,
                    rows(ckpt.get("mlp.gate_proj.weight_scale").toFloatArray(), from, to),
                    java.util.Arrays.copyOfRange(Oracle.decode(ckpt.get("mlp.gate_proj.bias")), from, to));
            double[] u = Int8Oracle.linear(xmf, m, hidden, ASYM_TOKEN, 0f, 0,
                    java.util.Arrays.copyOfRange(codes(ckpt.get("mlp.up_proj.weight")), from * hidden, to * hidden), fi,
                    rows(ckpt.get("mlp.up_proj.weight_scale").toFloatArray(), from, to),
                    java.util.Arrays.copyOfRange(Oracle.decode(ckpt.get("mlp.up_proj.bias")), from, to));
            float[] h = new float[m * fi]; // the shard's hidden activations, f32 as the kernel holds them
            for (int e = 0; e < h.length; e++) {
                h[e] = (float) (Oracle.activate(Activation.SILU, g[e]) * u[e]);
            }
            double[] part = Int8Oracle.linear(h, m, fi, ASYM_TOKEN, 0f, 0,
                    columns(codes(ckpt.get("mlp.down_proj.weight")), hidden, ffn, from, to), hidden,
                    ckpt.get("mlp.down_proj.weight_scale").toFloatArray(), null);
            for (int e = 0; e < part.length; e++) {
                refMlp[e] += part[e];
            }
        }
        // The kernels' f32 hidden activations differ from the oracle's by rounding, which can move
        // one across a rounding boundary of its int8 code: a tolerance that a few such steps pass.
        Tolerance oneCodeStep = new Tolerance(1e-2, 2e-2);
        TensorParallelMlp tp = TensorParallelMlp.of(layers.mlp("mlp"), Activation.SILU, devices, COMM);
        Comparison cm = Comparison.of(tp.forward(xm).toFloatArray(), refMlp);
        assertTrue(cm.within(oneCodeStep), () -> "tensor-parallel int8 MLP, seed " + SEED + ": " + cm);
        Tensor ymf = tp.forward(devices.stream().map(xm::to).toList(), new DistributedGemmConfig(true)).get(0);
        Comparison cf = Comparison.of(ymf.toFloatArray(), refMlp);
        assertTrue(cf.within(oneCodeStep), () -> "fused tensor-parallel int8 MLP, seed " + SEED + ": " + cf);
    }

    @ParameterizedTest(name = "{0} MLP over {1} devices")
    @CsvSource({"gptq, 3", "gptq, 1", "fp8, 2", "fp8, 4", "int8, 3"})
    void quantisedMlpShardsSumToTheUnshardedMlp(String format, int devices) {
        SplittableRandom rnd = new SplittableRandom(SEED + devices + format.length());
        int hidden = 256;
        int ffn = 384;
        Map<String, Tensor> ckpt = new LinkedHashMap<>();
        java.util.function.Function<String, LinearSpec> spec;
        DType outputDType;
        if (format.equals("gptq")) {
            GptqConfig q = new GptqConfig(4, 128, false, true, GptqFormat.GPTQ_V2);
            for (String p : new String[] {"gate_proj", "up_proj", "down_proj"}) {
                int in = p.equals("down_proj") ? ffn : hidden;
                int out = p.equals("down_proj") ? hidden : ffn;
                GptqLinearConfig c = new GptqLinearConfig(in, out, q, DType.F16, DeviceRef.cpu(0), true, p);
                ckpt.putAll(GptqPacker.pack(RandomTensors.uniform(DType.F32, Shape.of(out, in), rnd).toFloatArray(), c, null));
                ckpt.put(p + ".bias", RandomTensors.uniform(DType.F16, Shape.of(out), rnd));
            }
            spec = p -> {
                boolean down = p.equals("down_proj");
                return new GptqLinearConfig(down ? ffn : hidden, down ? hidden : ffn, q, DType.F16, DeviceRef.cpu(0), true, p);
            };
            outputDType = DType.F32;
        } else if (format.equals("int8")) {
            // Static asymmetric inputs: every shard quantises x alike, and its own row sums take
            // the zero point off its own slice, so the shards' integer sums add up to the whole's.
            Int8Scheme scheme = Int8Scheme.of(Int8Scheme.WeightScale.CHANNEL, Int8Scheme.InputScale.STATIC_TENSOR, false);
            for (String p : new String[] {"gate_proj", "up_proj", "down_proj"}) {
                int in = p.equals("down_proj") ? ffn : hidden;
                int out = p.equals("down_proj") ? hidden : ffn;
                int8Projection(ckpt, p, out, in, rnd);
                ckpt.put(p + ".input_scale", Tensor.of(DType.F32, Shape.of(1), p.equals("down_proj") ? 0.002f : 0.01f));
                Tensor zero = Tensor.allocate(DType.I8, Shape.of(1));
                zero.data().set(java.lang.foreign.ValueLayout.JAVA_BYTE, 0, (byte) (p.length() - 20));
                ckpt.put(p + ".input_zero_point", zero);
            }
            spec = p -> {
                boolean down = p.equals("down_proj");
                return Int8LinearConfig.of(down ? ffn : hidden, down ? hidden : ffn, scheme).withBias(true).withName(p);
            };
            outputDType = DType.F32;
        } else {
            // Static input scaling: the down projection may split its input features.
            Float8Config cfg = Float8Config.of(Float8InputScaleSpec.staticTensor(), Float8WeightScaleSpec.rowwise())
                    .withOutputDType(DType.F32);
            for (String p : new String[] {"gate_proj", "up_proj", "down_proj"}) {
                int in = p.equals("down_proj") ? ffn : hidden;
                int out = p.equals("down_proj") ? hidden : ffn;
                ckpt.put(p + ".weight", RandomTensors.uniform(DType.F8_E4M3FN, Shape.of(out, in), rnd));
                Tensor scales = Tensor.allocate(DType.F32, Shape.of(out, 1));
                for (int j = 0; j < out; j++) {
                    scales.setFloat(j, (float) rnd.nextDouble(0.005, 0.02));
                }
                ckpt.put(p + ".weight_scale", scales);
                ckpt.put(p + ".input_scale", Tensor.of(DType.F32, Shape.of(), 0.02f));
                ckpt.put(p + ".bias", RandomTensors.uniform(DType.F32, Shape.of(out), rnd));
            }
            spec = p -> {
                boolean down = p.equals("down_proj");
                return Fp8LinearConfig.of(down ? ffn : hidden, down ? hidden : ffn, DType.F8_E4M3FN, cfg).withBias(true).withName(p);
            };
            outputDType = cfg.outputDType();
        }
        TensorSource source = TensorSource.of(ckpt);
        MlpWeights weights = MlpWeights.read(source, "", p -> spec.apply(p).read(source));
        MLP full = MLP.of(weights, Activation.SILU, DeviceRef.cpu(0), outputDType);
        Tensor x = RandomTensors.uniform(DType.F32, Shape.of(3, hidden), rnd);
        double[] expected = new double[3 * hidden];
        float[] whole = full.forward(x).toFloatArray();
        for (int e = 0; e < whole.length; e++) {
            expected[e] = whole[e];
        }
        List<Tensor> partials = new ArrayList<>();
        for (int i = 0; i < devices; i++) {
            MLP shard = MLP.of(weights.shard(devices, i), Activation.SILU, DeviceRef.cpu(i), outputDType);
            partials.add(shard.forward(x.to(DeviceRef.cpu(i))));
        }
        Comparison c = Comparison.of(COMM.allReduceSum(partials).get(0).toFloatArray(), expected);
        assertTrue(c.within(Tolerance.F32_ACCUMULATION), () -> format + " seed " + SEED + ": " + c);
    }
}

package dev.tornadonn.cli;

import dev.tornadonn.core.Activation;
import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.io.TensorSource;
import dev.tornadonn.layers.LinearConfig;
import dev.tornadonn.layers.LinearWeights;
import dev.tornadonn.layers.MlpConfig;
import dev.tornadonn.layers.MlpWeights;
import dev.tornadonn.layers.quant.Fp8LinearConfig;
import dev.tornadonn.layers.quant.Float8Config;
import dev.tornadonn.layers.quant.Float8InputScaleSpec;
import dev.tornadonn.layers.quant.Float8WeightScaleSpec;
import dev.tornadonn.layers.quant.GptqConfig;
import dev.tornadonn.layers.quant.GptqFormat;
import dev.tornadonn.layers.quant.GptqLinearConfig;
import dev.tornadonn.layers.quant.GptqPacker;
import dev.tornadonn.core.numeric.Float8Format;
import dev.tornadonn.reference.Fp8Oracle;
import dev.tornadonn.reference.GptqOracle;
import dev.tornadonn.parallel.ColumnParallelLinear;
import dev.tornadonn.parallel.Communicator;
import dev.tornadonn.parallel.RowParallelLinear;
import dev.tornadonn.parallel.TensorParallelMlp;
import dev.tornadonn.reference.Comparison;
import dev.tornadonn.reference.Oracle;
import dev.tornadonn.reference.RandomTensors;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * The sharded cases {@code conformance --devices} runs: each parallel layer over the given
 * devices, dense and quantised, uneven splits included, against the unsharded float64 oracle.
 */
final class ShardedCases {

    record Case(String layer, String weights, String shape, long seed, Supplier<Comparison> run) {}

    private ShardedCases() {}

    static List<Case> cases(List<DeviceRef> devices, long baseSeed, Communicator comm) {
        List<Case> cases = new ArrayList<>();
        int n = devices.size();
        for (DType dtype : List.of(DType.F32, DType.BF16)) {
            long s1 = baseSeed ^ (31L * cases.size() + 1);
            cases.add(new Case("column-par", dtype.name(), "x(3, 64) -> 1000 +bias over " + n, s1, () -> {
                SplittableRandom rnd = new SplittableRandom(s1);
                Tensor w = RandomTensors.uniform(dtype, Shape.of(1000, 64), rnd);
                Tensor b = RandomTensors.uniform(dtype, Shape.of(1000), rnd);
                Tensor x = RandomTensors.uniform(DType.F32, Shape.of(3, 64), rnd);
                LinearWeights full = LinearConfig.builder(64, 1000).dtype(dtype).hasBias(true).device(devices.get(0)).build().weightsOf(w, b);
                Tensor y = ColumnParallelLinear.of(full, devices, comm).forward(x);
                return Comparison.of(y.toFloatArray(), Oracle.linear(Oracle.decode(x), 3, 64, Oracle.decode(w), 1000, Oracle.decode(b)));
            }));
            long s2 = baseSeed ^ (31L * cases.size() + 1);
            cases.add(new Case("row-par", dtype.name(), "x(2, 3, 1000) -> 40 +bias over " + n, s2, () -> {
                SplittableRandom rnd = new SplittableRandom(s2);
                Tensor w = RandomTensors.uniform(dtype, Shape.of(40, 1000), rnd);
                Tensor b = RandomTensors.uniform(dtype, Shape.of(40), rnd);
                Tensor x = RandomTensors.uniform(DType.F32, Shape.of(2, 3, 1000), rnd);
                LinearWeights full = LinearConfig.builder(1000, 40).dtype(dtype).hasBias(true).device(devices.get(0)).build().weightsOf(w, b);
                Tensor y = RowParallelLinear.of(full, devices, comm, false, true).forward(x);
                return Comparison.of(y.toFloatArray(), Oracle.linear(Oracle.decode(x), 6, 1000, Oracle.decode(w), 40, Oracle.decode(b)));
            }));
            for (boolean fused : new boolean[] {false, true}) {
                long s3 = baseSeed ^ (31L * cases.size() + 1);
                cases.add(new Case("tp-mlp", dtype.name(), "x(5, 48) ffn=130 silu +bias " + (fused ? "fused " : "") + "over " + n, s3,
                        () -> mlp(dtype, fused, devices, comm, s3)));
            }
        }
        quantised(cases, devices, baseSeed, comm);
        return cases;
    }

    /**
     * The parallel layers over GPTQ (4-bit, act-order, uneven splits cutting groups) and fp8
     * weights (static input scale, so that each input shard quantises its slice as the whole
     * layer would): each shard's codes stay packed on its own device.
     */
    private static void quantised(List<Case> cases, List<DeviceRef> devices, long baseSeed, Communicator comm) {
        int n = devices.size();
        GptqConfig q = new GptqConfig(4, 64, true, false, GptqFormat.GPTQ);
        long s1 = baseSeed ^ (31L * cases.size() + 1);
        cases.add(new Case("column-par", "GPTQ-int4", "x(3, 256) -> 200 g64 act-order +bias over " + n, s1, () -> {
            Gptq w = gptq(256, 200, q, new SplittableRandom(s1));
            Tensor x = RandomTensors.uniform(DType.F32, Shape.of(3, 256), w.rnd());
            Tensor y = ColumnParallelLinear.of(w.weights(), devices, comm).forward(x);
            return Comparison.of(y.toFloatArray(), Oracle.linear(Oracle.decode(x), 3, 256, w.dequantised(), 200, w.bias()));
        }));
        long s2 = baseSeed ^ (31L * cases.size() + 1);
        cases.add(new Case("row-par", "GPTQ-int4", "x(2, 3, 320) -> 40 g64 act-order +bias over " + n, s2, () -> {
            Gptq w = gptq(320, 40, q, new SplittableRandom(s2));
            Tensor x = RandomTensors.uniform(DType.F32, Shape.of(2, 3, 320), w.rnd());
            Tensor y = RowParallelLinear.of(w.weights(), devices, comm, false, true).forward(x);
            return Comparison.of(y.toFloatArray(), Oracle.linear(Oracle.decode(x), 6, 320, w.dequantised(), 40, w.bias()));
        }));
        Float8Config f8 = Float8Config.of(Float8InputScaleSpec.staticTensor(), Float8WeightScaleSpec.rowwise())
                .withOutputDType(DType.F32);
        for (boolean byRows : new boolean[] {true, false}) {
            long s3 = baseSeed ^ (31L * cases.size() + 1);
            int k = byRows ? 96 : 300;
            int out = byRows ? 130 : 24;
            cases.add(new Case(byRows ? "column-par" : "row-par", "FP8-E4M3",
                    "x(4, " + k + ") -> " + out + " static in, row scales +bias over " + n, s3, () -> {
                SplittableRandom rnd = new SplittableRandom(s3);
                Map<String, Tensor> ckpt = new LinkedHashMap<>();
                ckpt.put("weight", RandomTensors.uniform(DType.F8_E4M3FN, Shape.of(out, k), rnd));
                Tensor scales = Tensor.allocate(DType.F32, Shape.of(out, 1));
                for (int j = 0; j < out; j++) {
                    scales.setFloat(j, (float) rnd.nextDouble(0.005, 0.02));
                }
                ckpt.put("weight_scale", scales);
                ckpt.put("input_scale", Tensor.of(DType.F32, Shape.of(), 0.01f));
                ckpt.put("bias", RandomTensors.uniform(DType.F32, Shape.of(out), rnd));
                LinearWeights full = Fp8LinearConfig.of(k, out, DType.F8_E4M3FN, f8).withBias(true).read(TensorSource.of(ckpt));
                Tensor x = RandomTensors.uniform(DType.F32, Shape.of(4, k), rnd);
                Tensor y = byRows ? ColumnParallelLinear.of(full, devices, comm).forward(x)
                        : RowParallelLinear.of(full, devices, comm, false, true).forward(x);
                double[] ref = Fp8Oracle.linear(x.toFloatArray(), 4, k, Float8Format.E4M3FN, f8.inputScale(), 0.01f,
                        Oracle.decode(ckpt.get("weight")), out, f8.weightScale(), scales.toFloatArray(),
                        Oracle.decode(ckpt.get("bias")));
                return Comparison.of(y.toFloatArray(), ref);
            }));
        }
        long s4 = baseSeed ^ (31L * cases.size() + 1);
        cases.add(new Case("tp-mlp", "GPTQ-int4", "x(3, 128) ffn=192 g64 act-order silu +bias over " + n, s4, () -> {
            SplittableRandom rnd = new SplittableRandom(s4);
            Map<String, Gptq> proj = new LinkedHashMap<>();
            Map<String, Tensor> ckpt = new LinkedHashMap<>();
            for (String p : new String[] {"gate_proj", "up_proj", "down_proj"}) {
                boolean down = p.equals("down_proj");
                Gptq g = gptq(down ? 192 : 128, down ? 128 : 192, q, rnd, p);
                proj.put(p, g);
                ckpt.putAll(g.tensors());
            }
            TensorSource source = TensorSource.of(ckpt);
            MlpWeights weights = MlpWeights.read(source, "", p -> proj.get(p).config().read(source));
            Tensor x = RandomTensors.uniform(DType.F32, Shape.of(3, 128), rnd);
            Tensor y = TensorParallelMlp.of(weights, Activation.SILU, devices, comm).forward(devices.stream().map(x::to).toList())
                    .get(0);
            double[] ref = Oracle.mlp(Oracle.decode(x), 3, 128, 192, Activation.SILU, proj.get("gate_proj").dequantised(),
                    proj.get("gate_proj").bias(), proj.get("up_proj").dequantised(), proj.get("up_proj").bias(),
                    proj.get("down_proj").dequantised(), proj.get("down_proj").bias());
            return Comparison.of(y.toFloatArray(), ref);
        }));
    }

    /** A GPTQ projection as a checkpoint holds it, read into weights, and dequantised in float64 for the oracle. */
    private record Gptq(GptqLinearConfig config, Map<String, Tensor> tensors, LinearWeights weights, double[] dequantised,
                        double[] bias, SplittableRandom rnd) {}

    private static Gptq gptq(int in, int out, GptqConfig q, SplittableRandom rnd) {
        return gptq(in, out, q, rnd, "");
    }

    private static Gptq gptq(int in, int out, GptqConfig q, SplittableRandom rnd, String name) {
        GptqLinearConfig config = new GptqLinearConfig(in, out, q, DType.F16, DeviceRef.cpu(0), true, name);
        int[] groupOf = new int[in];
        for (int c = 0; c < in; c++) {
            groupOf[c] = (int) ((c * 37L) % in) / q.groupSize(); // 37 is coprime with every width here: a permutation
        }
        Map<String, Tensor> t = new LinkedHashMap<>(GptqPacker.pack(
                RandomTensors.uniform(DType.F32, Shape.of(out, in), rnd).toFloatArray(), config, groupOf));
        String prefix = name.isEmpty() ? "" : name + ".";
        t.put(prefix + "bias", RandomTensors.uniform(DType.F16, Shape.of(out), rnd));
        LinearWeights weights = config.read(TensorSource.of(t));
        double[] w = GptqOracle.dequantize(t.get(prefix + "qweight"), t.get(prefix + "qzeros"), t.get(prefix + "scales"),
                t.get(prefix + "g_idx"), q.bits(), q.groupSize(), true);
        return new Gptq(config, t, weights, w, Oracle.decode(t.get(prefix + "bias")), rnd);
    }

    private static Comparison mlp(DType dtype, boolean fused, List<DeviceRef> devices, Communicator comm, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int hidden = 48;
        int ffn = 130;
        Map<String, Tensor> ckpt = new LinkedHashMap<>();
        for (String p : new String[] {"gate_proj", "up_proj", "down_proj"}) {
            Shape ws = p.equals("down_proj") ? Shape.of(hidden, ffn) : Shape.of(ffn, hidden);
            ckpt.put(p + ".weight", RandomTensors.uniform(dtype, ws, rnd));
            ckpt.put(p + ".bias", RandomTensors.uniform(dtype, Shape.of(ws.dim(0)), rnd));
        }
        Tensor x = RandomTensors.uniform(DType.F32, Shape.of(5, hidden), rnd);
        MlpConfig config = MlpConfig.builder(hidden, ffn).dtype(dtype).hasBias(true).device(devices.get(0)).build();
        MlpWeights full = config.read(TensorSource.of(ckpt));
        TensorParallelMlp tp = TensorParallelMlp.of(full, config.activation(), devices, comm);
        List<Tensor> xs = devices.stream().map(x::to).toList();
        Tensor y = (fused ? tp.forwardFused(xs, 2) : tp.forward(xs)).get(devices.size() - 1);
        double[] ref = Oracle.mlp(Oracle.decode(x), 5, hidden, ffn, Activation.SILU,
                Oracle.decode(ckpt.get("gate_proj.weight")), Oracle.decode(ckpt.get("gate_proj.bias")),
                Oracle.decode(ckpt.get("up_proj.weight")), Oracle.decode(ckpt.get("up_proj.bias")),
                Oracle.decode(ckpt.get("down_proj.weight")), Oracle.decode(ckpt.get("down_proj.bias")));
        return Comparison.of(y.toFloatArray(), ref);
    }
}

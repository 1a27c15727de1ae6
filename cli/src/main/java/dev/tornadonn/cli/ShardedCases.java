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
 * devices, uneven splits included, against the unsharded float64 oracle.
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
        return cases;
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

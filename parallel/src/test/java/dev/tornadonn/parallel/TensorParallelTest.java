package dev.tornadonn.parallel;

import dev.tornadonn.core.ConfigException;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import dev.tornadonn.layers.sharding.Split;
import dev.tornadonn.reference.Comparison;
import dev.tornadonn.reference.Oracle;
import dev.tornadonn.reference.RandomTensors;
import dev.tornadonn.reference.Tolerance;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Sharded layers on 1 to 8 cpu devices against the unsharded float64 oracle. */
class TensorParallelTest {
    private static final long SEED = System.nanoTime();
    private static final HostCommunicator COMM = new HostCommunicator();

    static {
        System.out.println("TensorParallelTest seed " + SEED);
    }

    private static List<DeviceRef> cpus(int n) {
        return IntStream.range(0, n).mapToObj(DeviceRef::cpu).toList();
    }

    private record Loaded(LinearWeights layer, Tensor w, Tensor b) {}

    private static Loaded linear(int in, int out, DType dtype, SplittableRandom rnd) {
        Tensor w = RandomTensors.uniform(dtype, Shape.of(out, in), rnd);
        Tensor b = RandomTensors.uniform(dtype, Shape.of(out), rnd);
        return new Loaded(LinearConfig.builder(in, out).dtype(dtype).hasBias(true).build().weightsOf(w, b), w, b);
    }

    private static void assertMatches(Tensor y, double[] ref, String what) {
        Comparison c = Comparison.of(y.toFloatArray(), ref);
        assertTrue(c.within(Tolerance.F32_ACCUMULATION), () -> what + " (seed " + SEED + "): " + c);
    }

    @ParameterizedTest(name = "{0} -> {1} over {2} devices, {3}")
    @CsvSource({"64, 1000, 3, F32", "48, 1000, 3, BF16", "8, 151674, 4, BF16", "33, 7, 8, F32", "17, 129, 1, F16", "40, 100, 5, F32"})
    void columnParallelEqualsTheUnshardedLayer(int in, int out, int n, DType dtype) {
        SplittableRandom rnd = new SplittableRandom(SEED + out + n);
        Loaded l = linear(in, out, dtype, rnd);
        Tensor x = RandomTensors.uniform(DType.F32, Shape.of(3, in), rnd);
        double[] ref = Oracle.linear(Oracle.decode(x), 3, in, Oracle.decode(l.w()), out, Oracle.decode(l.b()));
        ColumnParallelLinear gathered = ColumnParallelLinear.of(l.layer(), cpus(n), COMM);
        List<Tensor> ys = gathered.forward(cpus(n).stream().map(x::to).toList());
        for (int i = 0; i < n; i++) {
            assertEquals(DeviceRef.cpu(i), ys.get(i).device());
            assertMatches(ys.get(i), ref, "gathered output on cpu:" + i);
        }
        List<Tensor> sharded = ColumnParallelLinear.of(l.layer(), cpus(n), COMM, false).forward(cpus(n).stream().map(x::to).toList());
        assertMatches(Tensor.concat(sharded, 1), ref, "concatenated shards");
        assertEquals(out / n + (out % n > 0 ? 1 : 0), sharded.get(0).shape().dim(1));
    }

    @ParameterizedTest(name = "{0} -> {1} over {2} devices, {3}")
    @CsvSource({"1000, 24, 3, F32", "1000, 24, 3, BF16", "129, 7, 8, F32", "64, 33, 1, F16", "300, 50, 7, F32"})
    void rowParallelEqualsTheUnshardedLayerWithTheBiasOnce(int in, int out, int n, DType dtype) {
        SplittableRandom rnd = new SplittableRandom(SEED + in + n);
        Loaded l = linear(in, out, dtype, rnd);
        Tensor x = RandomTensors.uniform(DType.F32, Shape.of(2, 3, in), rnd);
        double[] ref = Oracle.linear(Oracle.decode(x), 6, in, Oracle.decode(l.w()), out, Oracle.decode(l.b()));
        RowParallelLinear scatter = RowParallelLinear.of(l.layer(), cpus(n), COMM, false, true);
        for (Tensor y : scatter.forward(cpus(n).stream().map(x::to).toList())) {
            assertEquals(Shape.of(2, 3, out), y.shape());
            assertMatches(y, ref, "scattered input");
        }
        RowParallelLinear parallelIn = RowParallelLinear.of(l.layer(), cpus(n), COMM, true, true);
        Split split = new Split(in, n);
        List<Tensor> slices = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            slices.add(x.slice(2, split.start(i), split.end(i)).to(DeviceRef.cpu(i)));
        }
        assertMatches(parallelIn.forward(slices).get(n - 1), ref, "parallel input");
        assertThrows(ConfigException.class, () -> RowParallelLinear.of(l.layer(), cpus(n), COMM, true, false));
    }

    @ParameterizedTest(name = "hidden {0}, ffn {1} over {2} devices, bias {3}")
    @CsvSource({"48, 100, 3, true", "64, 130, 8, true", "32, 7, 2, false", "40, 96, 1, true", "24, 50, 4, false", "16, 33, 5, true", "8, 70, 6, true", "12, 45, 7, false"})
    void tensorParallelMlpFusedOrNotEqualsTheUnshardedMlp(int hidden, int ffn, int n, boolean bias) {
        SplittableRandom rnd = new SplittableRandom(SEED + hidden * 31L + n);
        Map<String, Tensor> ckpt = new LinkedHashMap<>();
        for (String p : new String[] {"gate_proj", "up_proj", "down_proj"}) {
            Shape ws = p.equals("down_proj") ? Shape.of(hidden, ffn) : Shape.of(ffn, hidden);
            ckpt.put(p + ".weight", RandomTensors.uniform(DType.BF16, ws, rnd));
            if (bias) {
                ckpt.put(p + ".bias", RandomTensors.uniform(DType.BF16, Shape.of(ws.dim(0)), rnd));
            }
        }
        MlpWeights full = MlpConfig.builder(hidden, ffn).dtype(DType.BF16).hasBias(bias).activation(Activation.GELU).build()
                .read(TensorSource.of(ckpt));
        Tensor x = RandomTensors.uniform(DType.F32, Shape.of(9, hidden), rnd);
        double[] ref = Oracle.mlp(Oracle.decode(x), 9, hidden, ffn, Activation.GELU,
                Oracle.decode(ckpt.get("gate_proj.weight")), bias ? Oracle.decode(ckpt.get("gate_proj.bias")) : null,
                Oracle.decode(ckpt.get("up_proj.weight")), bias ? Oracle.decode(ckpt.get("up_proj.bias")) : null,
                Oracle.decode(ckpt.get("down_proj.weight")), bias ? Oracle.decode(ckpt.get("down_proj.bias")) : null);
        TensorParallelMlp tp = TensorParallelMlp.of(full, Activation.GELU, cpus(n), COMM);
        List<Tensor> xs = cpus(n).stream().map(x::to).toList();
        List<Tensor> plain = tp.forward(xs);
        List<Tensor> fused = tp.forwardFused(xs, 2);
        for (int i = 0; i < n; i++) {
            assertMatches(plain.get(i), ref, "unfused on cpu:" + i);
            assertMatches(fused.get(i), ref, "fused on cpu:" + i);
            double[] unfused = new double[(int) plain.get(i).numel()];
            float[] p = plain.get(i).toFloatArray();
            for (int e = 0; e < p.length; e++) {
                unfused[e] = p[e];
            }
            Comparison same = Comparison.of(fused.get(i).toFloatArray(), unfused);
            assertTrue(same.within(new Tolerance(1e-6, 1e-5)), () -> "fused vs unfused: " + same);
        }
        assertMatches(tp.forward(xs, DistributedGemmConfig.fromValue("1")).get(0), ref, "fused by config");
    }

    @Test
    void shardsRunConcurrentlyOneThreadPerDevice() throws Exception {
        int n = 4;
        CyclicBarrier allThere = new CyclicBarrier(n);
        Set<String> threads = ConcurrentHashMap.newKeySet();
        // Every task waits for all the others: run one after another, this would time out.
        List<Integer> done = DeviceThreads.run(n, i -> {
            threads.add(Thread.currentThread().getName());
            try {
                allThere.await(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new IllegalStateException("device tasks did not run concurrently", e);
            }
            return i;
        });
        assertEquals(List.of(0, 1, 2, 3), done);
        assertEquals(n, threads.size());
        assertNotEquals(Thread.currentThread().getName(), threads.iterator().next());
    }

    @Test
    void aFailingShardFailsTheCallWithItsCause() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> DeviceThreads.run(3, i -> {
            if (i == 1) {
                throw new IllegalStateException("shard 1 broke");
            }
            return i;
        }));
        assertEquals("shard 1 broke", e.getMessage());
    }

    @Test
    void distributedGemmConfigParsesBooleansProperly() {
        assertTrue(DistributedGemmConfig.fromValue(null).enableMatmulAllreduce());
        assertTrue(DistributedGemmConfig.fromValue("TRUE").enableMatmulAllreduce());
        assertTrue(!DistributedGemmConfig.fromValue("0").enableMatmulAllreduce(), "MAX would enable it for \"0\"");
        assertTrue(!DistributedGemmConfig.fromValue("false").enableMatmulAllreduce());
        assertTrue(!DistributedGemmConfig.fromValue("").enableMatmulAllreduce());
        assertTrue(assertThrows(ConfigException.class, () -> DistributedGemmConfig.fromValue("maybe"))
                .getMessage().contains("LLAMA_ENABLE_DIST_GEMM_KERNELS='maybe'"));
    }
}

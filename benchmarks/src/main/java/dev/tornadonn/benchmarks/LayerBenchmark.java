package dev.tornadonn.benchmarks;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.io.TensorSource;
import dev.tornadonn.layers.Linear;
import dev.tornadonn.layers.LinearConfig;
import dev.tornadonn.layers.MLP;
import dev.tornadonn.layers.MlpConfig;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Whole layers through the public API, on {@code cpu:0} with whatever backend the class path
 * provides (the JVM kernels): {@code Linear(hidden → ffn)} and the gated {@code MLP(hidden, ffn)}
 * (SiLU, no bias), loaded with {@code load(config, TensorSource.of(map))} from random in-memory
 * weights. The input is F32 {@code (m, hidden)}.
 *
 * <p>Per op, the Linear does {@code 2·m·hidden·ffn} flops and the MLP {@code 6·m·hidden·ffn}
 * (gate+up fused into one {@code (2·ffn, hidden)} GEMM, then down). The defaults are small enough
 * for a laptop; a Llama-7B block is {@code -p hidden=4096 -p ffn=11008}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx4g"})
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 3, time = 5)
public class LayerBenchmark {

    @Param("1024")
    public int hidden;

    @Param("2816")
    public int ffn;

    /** Rows of x: 1 is decoding a token, 64 a small prefill. */
    @Param({"1", "64"})
    public int m;

    @Param({"F32", "BF16", "F16"})
    public DType weights;

    private Linear linear;
    private MLP mlp;
    private Tensor x;

    @Setup(Level.Trial)
    public void setUp() {
        DeviceRef cpu = DeviceRef.cpu(0);
        SplittableRandom rng = new SplittableRandom(BenchData.SEED);
        x = BenchData.matrix(rng, DType.F32, m, hidden);

        LinearConfig lc = LinearConfig.builder(hidden, ffn).dtype(weights).device(cpu).build();
        linear = Linear.load(lc, TensorSource.of(Map.of(lc.weightKey(), BenchData.weightMatrix(rng, weights, ffn, hidden))));

        MlpConfig mc = MlpConfig.builder(hidden, ffn).dtype(weights).device(cpu).build();
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put(mc.gateProj().weightKey(), BenchData.weightMatrix(rng, weights, ffn, hidden));
        t.put(mc.upProj().weightKey(), BenchData.weightMatrix(rng, weights, ffn, hidden));
        t.put(mc.downProj().weightKey(), BenchData.weightMatrix(rng, weights, hidden, ffn));
        mlp = MLP.load(mc, TensorSource.of(t));
        System.out.println("# " + linear + "; " + mlp);
    }

    @Benchmark
    public Tensor linearForward() {
        return linear.forward(x);
    }

    @Benchmark
    public Tensor mlpForward() {
        return mlp.forward(x);
    }
}

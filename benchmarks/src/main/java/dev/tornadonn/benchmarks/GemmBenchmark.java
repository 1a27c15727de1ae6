package dev.tornadonn.benchmarks;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.backend.Backend;
import dev.tornadonn.core.backend.PreparedMatrix;
import dev.tornadonn.core.weights.DenseMatrix;
import dev.tornadonn.jvm.JvmBackend;
import java.util.List;
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
 * {@code y = x · wᵀ} through {@link Backend#linear} of the JVM backend: x F32 {@code (m, k)},
 * w {@code (n, k)} in the chosen format, prepared once per trial; no bias.
 *
 * <p>One op is {@code 2·m·n·k} flops, so GFLOP/s = {@code 2·m·n·k / (ms/op · 1e6)}; at {@code m = 1}
 * (GEMV) the kernel streams the weight once, so GB/s = {@code n·k·bytes(weights) / (ms/op · 1e6)}.
 *
 * <pre>
 * java --add-modules=jdk.incubator.vector -jar benchmarks/target/benchmarks.jar '\.GemmBenchmark\.' \
 *     -p weights=F32 -p kernels=vector -p m=512 -p n=4096 -p k=4096
 * </pre>
 *
 * (JMH takes a regex: a bare {@code GemmBenchmark} also selects {@link EjmlGemmBenchmark}.) The
 * scalar kernels at the default shape take several seconds per op.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx4g"})
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 3, time = 5)
public class GemmBenchmark {

    @Param("512")
    public int m;

    @Param("4096")
    public int n;

    @Param("4096")
    public int k;

    /** The weight's storage format; activations and output are always F32. */
    @Param({"F32", "BF16", "F16"})
    public DType weights;

    /** {@code vector}: {@code new JvmBackend()} (Vector API when available); {@code scalar}: {@link JvmBackend#scalar()}. */
    @Param({"vector", "scalar"})
    public String kernels;

    private Backend backend;
    private Tensor x;
    private PreparedMatrix w;
    private Tensor y;

    @Setup(Level.Trial)
    public void setUp() {
        backend = switch (kernels) {
            case "vector" -> new JvmBackend();
            case "scalar" -> JvmBackend.scalar();
            default -> throw new ConfigException("kernels must be vector or scalar, not " + kernels);
        };
        DeviceRef cpu = DeviceRef.cpu(0);
        SplittableRandom rng = new SplittableRandom(BenchData.SEED);
        x = BenchData.matrix(rng, DType.F32, m, k);
        w = backend.prepare(List.of(DenseMatrix.of(BenchData.weightMatrix(rng, weights, n, k))), null, cpu);
        y = Tensor.allocate(DType.F32, Shape.of(m, n), cpu);
        System.out.println("# backend " + backend.name() + ", x " + x + ", w " + weights + " (" + n + ", " + k + "), "
                + w.bytes() + " bytes prepared");
    }

    @Benchmark
    public Tensor linear() {
        backend.linear(x, w, y);
        return y;
    }
}

package dev.tornadonn.benchmarks;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.ejml.data.FMatrixRMaj;
import org.ejml.dense.row.CommonOps_FDRM;
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
 * The baseline for {@link GemmBenchmark}: the same {@code y = x · wᵀ} in float32 with EJML's
 * {@link CommonOps_FDRM#multTransB} (single-threaded), x {@code (m, k)}, w {@code (n, k)}, y
 * {@code (m, n)}, filled from the same seed and in the same order as GemmBenchmark's F32 case.
 *
 * <p>At the default shape one op takes many seconds; run it with e.g. {@code -wi 1 -i 2}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx4g"})
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 3, time = 5)
public class EjmlGemmBenchmark {

    @Param("512")
    public int m;

    @Param("4096")
    public int n;

    @Param("4096")
    public int k;

    private FMatrixRMaj x;
    private FMatrixRMaj w;
    private FMatrixRMaj y;

    @Setup(Level.Trial)
    public void setUp() {
        SplittableRandom rng = new SplittableRandom(BenchData.SEED);
        x = FMatrixRMaj.wrap(m, k, BenchData.uniform(rng, Math.multiplyExact(m, k)));
        w = FMatrixRMaj.wrap(n, k, BenchData.weights(rng, n, k));
        y = new FMatrixRMaj(m, n);
    }

    @Benchmark
    public FMatrixRMaj multTransB() {
        CommonOps_FDRM.multTransB(x, w, y);
        return y;
    }
}

package dev.tornadonn.jvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.reference.Comparison;
import dev.tornadonn.reference.Oracle;
import dev.tornadonn.reference.RandomTensors;
import dev.tornadonn.reference.Tolerance;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Both host kernels, scalar and vector, against the float64 oracle on awkward shapes around every
 * blocking boundary (vector lanes, the 6-row micro-kernel, the K block, the GEMV cut-off).
 */
class MatmulKernelsTest {
    private static final long SEED = System.nanoTime();

    static {
        System.out.println("MatmulKernelsTest seed " + SEED);
    }

    static List<MatmulKernels> kernels() {
        List<MatmulKernels> k = new ArrayList<>();
        k.add(new ScalarKernels());
        MatmulKernels v = KernelSelection.vectorOrNull();
        assertNotNull(v, "the test JVM runs with jdk.incubator.vector, so the vector kernels must load");
        k.add(v);
        return k;
    }

    static Stream<Arguments> shapes() {
        int[] ms = {1, 2, 4, 5, 6, 7, 8, 13, 16, 17, 129};
        int[] ks = {1, 7, 16, 17, 33, 129, 257, 4097};
        int[] ns = {1, 7, 31, 32, 33, 48, 49, 129, 257, 600};
        List<Arguments> out = new ArrayList<>();
        SplittableRandom pick = new SplittableRandom(SEED);
        for (MatmulKernels kern : kernels()) {
            for (DType dtype : List.of(DType.F32, DType.BF16, DType.F16)) {
                for (int i = 0; i < 24; i++) {
                    int m = ms[pick.nextInt(ms.length)];
                    int k = ks[pick.nextInt(ks.length)];
                    int n = ns[pick.nextInt(ns.length)];
                    out.add(Arguments.of(kern, dtype, m, k, n, pick.nextBoolean(), pick.nextLong()));
                }
            }
        }
        return out.stream();
    }

    /**
     * Every GEMV row count against K around the vector and pair-block lengths, with N leaving a
     * short last block of the 4-row kernel and row ranges that do not start on a block.
     */
    static Stream<Arguments> gemvShapes() {
        List<Arguments> out = new ArrayList<>();
        SplittableRandom pick = new SplittableRandom(SEED + 1);
        MatmulKernels v = KernelSelection.vectorOrNull();
        for (DType dtype : List.of(DType.F32, DType.BF16, DType.F16)) {
            for (int m = 1; m <= VectorKernels.GEMV_MAX_M; m++) {
                for (int k : new int[] {1, 7, 31, 32, 33, 129, 4097}) {
                    out.add(Arguments.of(v, dtype, m, k, m == 1 ? 67 : 7, m % 2 == 0, pick.nextLong()));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} m={2} k={3} n={4} bias={5} seed={6}")
    @MethodSource({"shapes", "gemvShapes"})
    void matchesTheOracle(MatmulKernels kern, DType dtype, int m, int k, int n, boolean bias, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        Tensor x = RandomTensors.uniform(DType.F32, Shape.of(m, k), rnd);
        Tensor w = RandomTensors.uniform(dtype, Shape.of(n, k), rnd);
        Tensor b = bias ? RandomTensors.uniform(DType.F32, Shape.of(n), rnd) : null;
        float[] y = new float[m * n];
        java.util.Arrays.fill(y, Float.NaN); // every element must be written
        kern.linear(x.toFloatArray(), m, k, w.data(), dtype, n, b == null ? null : b.toFloatArray(), y);
        Comparison c = againstOracle(y, x, m, k, w, n, b);
        assertTrue(c.within(Tolerance.F32_ACCUMULATION), () -> kern.name() + " " + c);
    }

    /**
     * Both GEMM micro-kernels (8 × 3 vectors and 6 × 2 vectors) whatever the CPU prefers, on shapes
     * with full tiles, edge tiles in m and n, k around the packed block and the 16-lane transpose.
     */
    static Stream<Arguments> gemmShapes() {
        int[][] mkn = {{5, 7, 1}, {8, 16, 48}, {6, 32, 32}, {13, 33, 49}, {16, 256, 96}, {17, 257, 97},
            {129, 129, 33}, {24, 4097, 50}, {9, 300, 600}, {48, 513, 144}};
        List<Arguments> out = new ArrayList<>();
        SplittableRandom pick = new SplittableRandom(SEED + 1);
        for (boolean wide : List.of(true, false)) {
            for (DType dtype : List.of(DType.F32, DType.BF16, DType.F16)) {
                for (int[] s : mkn) {
                    out.add(Arguments.of(wide, dtype, s[0], s[1], s[2], pick.nextBoolean(), pick.nextLong()));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "wide={0} {1} m={2} k={3} n={4} bias={5} seed={6}")
    @MethodSource("gemmShapes")
    void bothGemmMicroKernelsMatchTheOracle(boolean wide, DType dtype, int m, int k, int n, boolean bias, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        Tensor x = RandomTensors.uniform(DType.F32, Shape.of(m, k), rnd);
        Tensor w = RandomTensors.uniform(dtype, Shape.of(n, k), rnd);
        Tensor b = bias ? RandomTensors.uniform(DType.F32, Shape.of(n), rnd) : null;
        float[] y = new float[m * n];
        java.util.Arrays.fill(y, Float.NaN);
        VectorGemm.gemm(x.toFloatArray(), m, k, w.data(), dtype, n, b == null ? null : b.toFloatArray(), y, wide);
        Comparison c = againstOracle(y, x, m, k, w, n, b);
        assertTrue(c.within(Tolerance.F32_ACCUMULATION), () -> "wide=" + wide + " " + c);
    }

    /** The unpacked few-rows path on tails of x rows (groups of 8), weight rows (groups of 3) and k (vectors). */
    static Stream<Arguments> fewRowsShapes() {
        int[][] mkn = {{1, 16, 1}, {5, 7, 1}, {5, 33, 7}, {8, 16, 3}, {13, 129, 49}, {16, 4097, 10},
            {17, 257, 4}, {64, 300, 31}, {3, 48, 2}, {9, 1000, 5}};
        List<Arguments> out = new ArrayList<>();
        SplittableRandom pick = new SplittableRandom(SEED + 2);
        for (DType dtype : List.of(DType.F32, DType.BF16, DType.F16)) {
            for (int[] s : mkn) {
                out.add(Arguments.of(dtype, s[0], s[1], s[2], pick.nextBoolean(), pick.nextLong()));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} m={1} k={2} n={3} bias={4} seed={5}")
    @MethodSource("fewRowsShapes")
    void fewRowsGemmMatchesTheOracle(DType dtype, int m, int k, int n, boolean bias, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        Tensor x = RandomTensors.uniform(DType.F32, Shape.of(m, k), rnd);
        Tensor w = RandomTensors.uniform(dtype, Shape.of(n, k), rnd);
        Tensor b = bias ? RandomTensors.uniform(DType.F32, Shape.of(n), rnd) : null;
        float[] y = new float[m * n];
        java.util.Arrays.fill(y, Float.NaN);
        VectorGemm.gemmFewRows(x.toFloatArray(), m, k, w.data(), dtype, n, b == null ? null : b.toFloatArray(), y);
        Comparison c = againstOracle(y, x, m, k, w, n, b);
        assertTrue(c.within(Tolerance.F32_ACCUMULATION), c::toString);
    }

    @Test
    void gemmWithAnEmptyKIsTheBias() {
        float[] bias = {1f, -2f, 3f};
        for (boolean wide : List.of(true, false)) {
            float[] y = new float[2 * 3];
            java.util.Arrays.fill(y, Float.NaN);
            VectorGemm.gemm(new float[0], 2, 0, java.lang.foreign.MemorySegment.NULL, DType.F32, 3, bias, y, wide);
            assertEquals(List.of(1f, -2f, 3f, 1f, -2f, 3f), List.of(y[0], y[1], y[2], y[3], y[4], y[5]));
            VectorGemm.gemm(new float[0], 2, 0, java.lang.foreign.MemorySegment.NULL, DType.F32, 3, null, y, wide);
            assertEquals(List.of(0f, 0f, 0f, 0f, 0f, 0f), List.of(y[0], y[1], y[2], y[3], y[4], y[5]));
        }
    }

    @Test
    void scalarAndVectorAgreeOnALargeGemm() {
        SplittableRandom rnd = new SplittableRandom(SEED);
        int m = 70, k = 1000, n = 530;
        Tensor x = RandomTensors.uniform(DType.F32, Shape.of(m, k), rnd);
        Tensor w = RandomTensors.uniform(DType.BF16, Shape.of(n, k), rnd);
        List<float[]> outs = new ArrayList<>();
        for (MatmulKernels kern : kernels()) {
            float[] y = new float[m * n];
            kern.linear(x.toFloatArray(), m, k, w.data(), DType.BF16, n, null, y);
            outs.add(y);
        }
        double[] scalarAsDouble = new double[m * n];
        for (int i = 0; i < scalarAsDouble.length; i++) {
            scalarAsDouble[i] = outs.get(0)[i];
        }
        assertTrue(Comparison.of(outs.get(1), scalarAsDouble).within(Tolerance.F32_ACCUMULATION));
    }

    /**
     * Every 16-bit pattern through the vector GEMV itself, as an even and as an odd column (the
     * low and high half of a lane): row p holds pattern p at column c and zeros elsewhere, and x
     * is one at column c, so y[p] is the decoded weight, NaN and infinity included.
     */
    @Test
    void vectorGemvDecodesEveryHalfPrecisionPatternExactly() {
        int n = 65536;
        int k = 2 * VectorKernels.L;
        MatmulKernels v = KernelSelection.vectorOrNull();
        for (DType dtype : List.of(DType.F16, DType.BF16)) {
            for (int c : new int[] {0, 1, k - 1}) {
                Tensor w = Tensor.allocate(dtype, Shape.of(n, k));
                for (int p = 0; p < n; p++) {
                    w.data().setAtIndex(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, (long) p * k + c, (short) p);
                }
                float[] x = new float[k];
                x[c] = 1f;
                float[] y = new float[n];
                v.linear(x, 1, k, w.data(), dtype, n, null, y);
                for (int p = 0; p < n; p++) {
                    short bits = (short) p;
                    float want = dtype == DType.F16 ? Float.float16ToFloat(bits) : Float.intBitsToFloat((bits & 0xFFFF) << 16);
                    assertSameFloat(want == 0f ? 0f : want, y[p], dtype + " pattern " + p + " in column " + c);
                }
            }
        }
    }

    /**
     * The f16 GEMV scales x by 2^64 inside its loop: an x too large for that (here 2^70) takes the
     * exact one-weight-at-a-time path, and a row's last few weights (past the last whole vector
     * pair) go exactly too, infinity included.
     */
    @Test
    void f16GemvTakesHugeInputsAndTailInfinitiesExactly() {
        SplittableRandom rnd = new SplittableRandom(SEED + 3);
        int k = 2 * VectorKernels.L + 3;
        int n = 9;
        Tensor w = RandomTensors.uniform(DType.F16, Shape.of(n, k), rnd);
        float[] x = RandomTensors.uniform(DType.F32, Shape.of(1, k), rnd).toFloatArray();
        MatmulKernels v = KernelSelection.vectorOrNull();
        for (float big : new float[] {1f, 0x1p70f}) {
            x[5] = big;
            float[] y = new float[n];
            java.util.Arrays.fill(y, Float.NaN);
            v.linear(x, 1, k, w.data(), DType.F16, n, null, y);
            Comparison c = againstOracle(y, Tensor.of(x, 1, k), 1, k, w, n, null);
            assertTrue(c.within(Tolerance.F32_ACCUMULATION), () -> "x[5] = " + big + ": " + c);
        }
        x[5] = 1f;
        w.data().setAtIndex(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, 2L * k - 1, (short) 0x7C00); // +inf, row 1's last
        float[] y = new float[n];
        v.linear(x, 1, k, w.data(), DType.F16, n, null, y);
        assertEquals(Math.signum(x[k - 1]) * Float.POSITIVE_INFINITY, y[1], "row 1 with +inf as its last weight");
        assertTrue(Float.isFinite(y[0]) && Float.isFinite(y[2]), "the rows beside it stay finite");
    }

    /** y against x·wᵀ + b in float64, with the error budget of its magnitudes. */
    private static Comparison againstOracle(float[] y, Tensor x, int m, int k, Tensor w, int n, Tensor b) {
        double[] xd = Oracle.decode(x);
        double[] wd = Oracle.decode(w);
        double[] bd = b == null ? null : Oracle.decode(b);
        double[] ref = Oracle.linear(xd, m, k, wd, n, bd);
        double[] scale = Oracle.linear(Oracle.abs(xd), m, k, Oracle.abs(wd), n, bd == null ? null : Oracle.abs(bd));
        return Comparison.of(y, ref, scale);
    }

    private static void assertSameFloat(float expected, float actual, String what) {
        if (Float.isNaN(expected)) {
            assertTrue(Float.isNaN(actual), what + ": expected NaN, got " + actual);
        } else {
            assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(actual),
                    what + ": expected " + expected + ", got " + actual);
        }
    }
}

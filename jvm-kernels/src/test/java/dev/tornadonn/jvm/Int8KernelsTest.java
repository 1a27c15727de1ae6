package dev.tornadonn.jvm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.backend.PreparedMatrix;
import dev.tornadonn.core.weights.Int8InputQuantization;
import dev.tornadonn.core.weights.Int8Matrix;
import dev.tornadonn.core.weights.Int8WeightScale;
import dev.tornadonn.layers.quant.Int8Scheme;
import dev.tornadonn.reference.Comparison;
import dev.tornadonn.reference.Int8Oracle;
import dev.tornadonn.reference.Oracle;
import dev.tornadonn.reference.Tolerance;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The int8 kernels, scalar and vector, against each other, against exact integers and against the oracle. */
class Int8KernelsTest {
    private static final long SEED = System.nanoTime();
    private static final DeviceRef CPU = DeviceRef.cpu(0);

    static {
        System.out.println("Int8KernelsTest seed " + SEED);
    }

    static List<Int8Kernels> kernels() {
        Int8Kernels v = KernelSelection.vectorInt8();
        assertInstanceOf(VectorInt8Kernels.class, v, "the test JVM runs with jdk.incubator.vector");
        return List.of(new Int8Kernels.Scalar(), v);
    }

    static List<JvmBackend> backends() {
        return List.of(JvmBackend.scalar(), new JvmBackend(KernelSelection.vectorOrNull()));
    }

    private static byte[] randomCodes(SplittableRandom r, int count) {
        byte[] codes = new byte[count];
        for (int i = 0; i < codes.length; i++) {
            codes[i] = (byte) (r.nextInt(6) == 0 ? (r.nextBoolean() ? -128 : 127) : r.nextInt(-128, 128));
        }
        return codes;
    }

    /**
     * Both twins give the exact integer sums, at every K around the vector width, its tail and
     * the int chunk ({@code 2^16} columns), for a full block of rows and for short ones.
     */
    @Test
    void twinsGiveTheExactIntegerSums() {
        SplittableRandom r = new SplittableRandom(SEED);
        for (int k : new int[] {1, 7, 15, 16, 17, 31, 32, 33, 64, 65, 129, 4097, 65536 + 37}) {
            int n = 11;
            byte[] codes = randomCodes(r, n * k);
            Int8Layout w = Int8Layout.of(Int8Matrix.of(n, k, codes, new Int8WeightScale.PerTensor(1f),
                    new Int8InputQuantization.DynamicPerToken()));
            short[] x = new short[k + 3];
            for (int i = 0; i < x.length; i++) {
                x[i] = (short) (r.nextInt(6) == 0 ? (r.nextBoolean() ? -128 : 127) : r.nextInt(-128, 128));
            }
            for (int count : new int[] {Int8Kernels.ROWS, 3}) {
                long[] want = new long[Int8Kernels.ROWS];
                for (int row = 0; row < count; row++) {
                    for (int c = 0; c < k; c++) {
                        want[row] += (long) x[3 + c] * codes[(2 + row) * k + c];
                    }
                }
                for (Int8Kernels kern : kernels()) {
                    long[] got = new long[Int8Kernels.ROWS];
                    kern.rowsTimesX(w, 2, count, x, 3, got);
                    assertArrayEquals(Arrays.copyOf(want, count), Arrays.copyOf(got, count),
                            kern.getClass().getSimpleName() + " k=" + k + " rows=" + count);
                }
            }
        }
    }

    /**
     * 4097 products of 127·127 sum to 66 080 513, which f32 cannot hold (its spacing there is 4)
     * and an f32 accumulation would miss by more: the output is that sum rounded once.
     */
    @Test
    void theSumIsExactAndRoundedOnce() {
        int k = 4097;
        byte[] codes = new byte[k];
        Arrays.fill(codes, (byte) 127);
        float[] x = new float[k];
        Arrays.fill(x, 127f); // per token: max|x| = 127, so s = 1 and every code is 127
        for (JvmBackend backend : backends()) {
            PreparedMatrix p = backend.prepare(List.of(Int8Matrix.of(1, k, codes, new Int8WeightScale.PerTensor(1f),
                    new Int8InputQuantization.DynamicPerToken())), null, CPU);
            Tensor y = Tensor.allocate(DType.F32, Shape.of(1, 1)).fill(Float.NaN);
            backend.linear(Tensor.of(x, 1, k), p, y);
            assertEquals((float) 66_080_513.0, y.getFloat(0), backend.name());
        }
    }

    /**
     * x meets the identity: each output is one quantised input, {@code (xq − z)·s}. Ties round to
     * even (not away from zero), and codes saturate at −128 and 127.
     */
    @Test
    void inputsRoundHalfToEvenAndSaturate() {
        float[] x = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 126.5f, 127.5f, -128.5f, 300f, -300f, 0.49999997f};
        float[] symmetric = {0, 2, 2, 0, -2, -2, 126, 127, -128, 127, -128, 0};
        assertEquals(symmetric.length, x.length);
        check(x, new Int8InputQuantization.Static(1f), symmetric);
        // Asymmetric, z = 10: rne(x) + 10 saturates at 127 and −128 before z is taken off again.
        float[] shifted = {0, 2, 2, 0, -2, -2, 117, 117, -128, 117, -138, 0};
        check(x, new Int8InputQuantization.StaticAsymmetric(1f, 10), shifted);
        // Per token: max|x| = 127 gives 127 / max|x| = 1 and s = 1.
        float[] token = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 126.5f, -126.5f, 127f};
        check(token, new Int8InputQuantization.DynamicPerToken(), new float[] {0, 2, 2, 0, -2, -2, 126, -126, 127});
        // Asymmetric per token: min = −127.5 and max = 127.5 give s = 1 and z = rne(−0.5) = 0.
        float[] span = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 126.5f, -126.5f, -127.5f, 127.5f};
        check(span, new Int8InputQuantization.DynamicPerTokenAsymmetric(), new float[] {0, 2, 2, 0, -2, -2, 126, -126, -128, 127});
    }

    private static void check(float[] x, Int8InputQuantization in, float[] want) {
        int k = x.length;
        byte[] identity = new byte[k * k];
        for (int i = 0; i < k; i++) {
            identity[i * k + i] = 1;
        }
        for (JvmBackend backend : backends()) {
            PreparedMatrix p = backend.prepare(List.of(Int8Matrix.of(k, k, identity, new Int8WeightScale.PerTensor(1f), in)),
                    null, CPU);
            Tensor y = Tensor.allocate(DType.F32, Shape.of(1, k)).fill(Float.NaN);
            backend.linear(Tensor.of(x, 1, k), p, y);
            assertArrayEquals(want, y.toFloatArray(), backend.name() + " " + in.describe());
        }
    }

    /**
     * Asymmetric rows: all positive (zero point far below −128), a constant row (span 0: scaled
     * as per token instead of dividing by 0), an all-zero one, and a row with an infinity, whose
     * outputs are NaN while the other rows are unaffected.
     */
    @Test
    void asymmetricRowsOfEveryKindMatchTheOracle() {
        int k = 37;
        int n = 13;
        int m = 5;
        SplittableRandom r = new SplittableRandom(SEED + 1);
        byte[] codes = randomCodes(r, n * k);
        float[] x = new float[m * k];
        for (int c = 0; c < k; c++) {
            x[c] = 1000f + (float) r.nextDouble();         // offset far from 0: z ≈ −2.5e5
            x[k + c] = 3f;                                 // span 0
            x[2 * k + c] = 0f;                             // all zero
            x[3 * k + c] = (float) r.nextGaussian();
            x[4 * k + c] = (float) r.nextGaussian();
        }
        x[3 * k + 5] = Float.POSITIVE_INFINITY;
        float[] ws = new float[n];
        for (int j = 0; j < n; j++) {
            ws[j] = (float) Math.scalb(1 + r.nextDouble(), -7);
        }
        Int8Scheme scheme = Int8Scheme.of(Int8Scheme.WeightScale.CHANNEL, Int8Scheme.InputScale.DYNAMIC_TOKEN, false);
        double[] ref = Int8Oracle.linear(x, m, k, scheme, 0f, 0, codes, n, ws, null);
        for (JvmBackend backend : backends()) {
            PreparedMatrix p = backend.prepare(List.of(Int8Matrix.of(n, k, codes, new Int8WeightScale.PerChannel(ws),
                    new Int8InputQuantization.DynamicPerTokenAsymmetric())), null, CPU);
            Tensor y = Tensor.allocate(DType.F32, Shape.of(m, n)).fill(0f);
            backend.linear(Tensor.of(x, m, k), p, y);
            float[] got = y.toFloatArray();
            for (int j = 0; j < n; j++) {
                assertTrue(Float.isNaN(got[3 * n + j]), "the row holding +inf gives NaN");
                got[3 * n + j] = 0f;
                ref[3 * n + j] = 0;
            }
            Comparison c = Comparison.of(got, ref);
            assertTrue(c.within(Tolerance.F32_ACCUMULATION), () -> backend.name() + ": relative L2 " + c.relativeL2());
            for (int j = 0; j < n; j++) {
                assertEquals(0f, got[2 * n + j], "a zero row gives zeros");
            }
        }
    }

    static Stream<Arguments> products() {
        List<Arguments> out = new ArrayList<>();
        int[][] shapes = {{1, 1, 1}, {1, 300, 33}, {4, 129, 17}, {5, 129, 17}, {7, 64, 9}, {37, 257, 70}, {3, 4097, 8}};
        int i = 0;
        for (Int8Scheme.WeightScale w : Int8Scheme.WeightScale.values()) {
            for (Int8Scheme.InputScale in : Int8Scheme.InputScale.values()) {
                for (boolean symmetric : new boolean[] {true, false}) {
                    for (int rep = 0; rep < 2; rep++) {
                        int[] s = shapes[i++ % shapes.length];
                        out.add(Arguments.of(Int8Scheme.of(w, in, symmetric), s[0], s[1], s[2]));
                    }
                }
            }
        }
        return out.stream();
    }

    /**
     * Each scheme on the GEMV and the GEMM, scalar and vector: the oracle within f32 rounding, and
     * the two backends and the two paths bit for bit (the sums are exact integers, so a row of x
     * gives the same outputs alone as among 36 others).
     */
    @ParameterizedTest(name = "{0} m={1} k={2} n={3}")
    @MethodSource("products")
    void everySchemeMatchesTheOracleAndItselfRowByRow(Int8Scheme scheme, int m, int k, int n) {
        SplittableRandom r = new SplittableRandom(SEED ^ (31L * m + 7L * k + n) ^ scheme.toString().hashCode());
        byte[] codes = randomCodes(r, n * k);
        boolean channel = scheme.weightScale() == Int8Scheme.WeightScale.CHANNEL;
        float[] ws = new float[channel ? n : 1];
        for (int j = 0; j < ws.length; j++) {
            ws[j] = (float) Math.scalb(1 + r.nextDouble(), -8 - r.nextInt(4));
        }
        float[] x = new float[m * k];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (r.nextGaussian() * (r.nextInt(32) == 0 ? 20 : 1) + (scheme.symmetricInput() ? 0 : 1.5));
        }
        float staticScale = 2.5f / 127f;
        int staticZero = scheme.symmetricInput() ? 0 : -17;
        Int8InputQuantization in = scheme.isStatic()
                ? (scheme.symmetricInput() ? new Int8InputQuantization.Static(staticScale)
                : new Int8InputQuantization.StaticAsymmetric(staticScale, staticZero))
                : (scheme.symmetricInput() ? new Int8InputQuantization.DynamicPerToken()
                : new Int8InputQuantization.DynamicPerTokenAsymmetric());
        Int8WeightScale weightScale = channel ? new Int8WeightScale.PerChannel(ws) : new Int8WeightScale.PerTensor(ws[0]);
        float[] bias = new float[n];
        double[] bd = new double[n];
        for (int j = 0; j < n; j++) {
            bias[j] = (float) r.nextGaussian();
            bd[j] = bias[j];
        }
        double[] ref = Int8Oracle.linear(x, m, k, scheme, staticScale, staticZero, codes, n, ws, bd);
        float[] first = null;
        for (JvmBackend backend : backends()) {
            PreparedMatrix p = backend.prepare(List.of(Int8Matrix.of(n, k, codes, weightScale, in)), Tensor.of(bias, n), CPU);
            Tensor y = Tensor.allocate(DType.F32, Shape.of(m, n)).fill(Float.NaN);
            backend.linear(Tensor.of(x, m, k), p, y);
            float[] got = y.toFloatArray();
            Comparison c = Comparison.of(got, ref, scaleOf(x, m, k, scheme, staticScale, staticZero, codes, n, ws, bd));
            assertTrue(c.within(Tolerance.F32_ACCUMULATION), () -> backend.name() + ": relative L2 " + c.relativeL2()
                    + ", max abs " + c.maxAbsError());
            if (first == null) {
                first = got;
            } else {
                assertArrayEquals(first, got, "scalar and vector kernels agree bit for bit");
            }
            for (int i = 0; i < m; i += Math.max(1, m / 3)) { // one row alone: the GEMV path
                Tensor yi = Tensor.allocate(DType.F32, Shape.of(1, n)).fill(Float.NaN);
                backend.linear(Tensor.of(Arrays.copyOfRange(x, i * k, (i + 1) * k), 1, k), p, yi);
                assertArrayEquals(Arrays.copyOfRange(got, i * n, (i + 1) * n), yi.toFloatArray(), "row " + i + " alone");
            }
        }
    }

    private static double[] scaleOf(float[] x, int m, int k, Int8Scheme scheme, float s, int z, byte[] codes, int n,
                                    float[] ws, double[] bias) {
        double[] xd = Oracle.abs(Int8Oracle.quantiseInput(x, m, k, scheme, s, z));
        double[] wd = new double[n * k];
        for (int j = 0; j < n; j++) {
            for (int c = 0; c < k; c++) {
                wd[j * k + c] = Math.abs(codes[j * k + c] * (double) ws[ws.length == 1 ? 0 : j]);
            }
        }
        return Oracle.linear(xd, m, k, wd, n, Oracle.abs(bias));
    }

    /** Gate and up with one input quantisation share a layout; with static scales of their own they are stacked. */
    @Test
    void blocksShareALayoutOnlyWithOneInputQuantisation() {
        byte[] codes = new byte[4 * 8];
        Int8Matrix a = Int8Matrix.of(4, 8, codes, new Int8WeightScale.PerTensor(1f), new Int8InputQuantization.Static(0.5f));
        Int8Matrix b = Int8Matrix.of(4, 8, codes, new Int8WeightScale.PerTensor(2f), new Int8InputQuantization.Static(0.5f));
        Int8Matrix c = Int8Matrix.of(4, 8, codes, new Int8WeightScale.PerTensor(2f), new Int8InputQuantization.Static(0.25f));
        JvmBackend backend = new JvmBackend();
        assertInstanceOf(Int8Layout.class, ((JvmMatrix) backend.prepare(List.of(a, b), null, CPU)).layout());
        assertInstanceOf(KernelLayout.Stacked.class, ((JvmMatrix) backend.prepare(List.of(a, c), null, CPU)).layout());
    }
}

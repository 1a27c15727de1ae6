package dev.tornadonn.jvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.numeric.Float8Format;
import dev.tornadonn.core.weights.Fp8InputQuantization;
import dev.tornadonn.core.weights.Fp8Matrix;
import dev.tornadonn.core.weights.Fp8WeightScale;
import dev.tornadonn.layers.quant.Float8InputScaleSpec;
import dev.tornadonn.layers.quant.Float8WeightScaleSpec;
import dev.tornadonn.reference.Comparison;
import dev.tornadonn.reference.Fp8Oracle;
import dev.tornadonn.reference.Tolerance;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The fp8 kernels, scalar and vector, against each other and the exact oracle, straight on the backend. */
class Fp8KernelsTest {
    private static final long SEED = System.nanoTime();

    static {
        System.out.println("Fp8KernelsTest seed " + SEED);
    }

    static List<Fp8Kernels> kernels() {
        Fp8Kernels v = KernelSelection.vectorFp8();
        assertInstanceOf(VectorFp8Kernels.class, v, "the test JVM runs with jdk.incubator.vector");
        return List.of(new Fp8Kernels.Scalar(), v);
    }

    /**
     * The vector kernels' rounding of x against {@link Float8Format#round}, bit for bit: every
     * 251st f32 bit pattern (all exponents, both signs, NaNs and infinities), each tie between two
     * neighbouring fp8 values and the f32 values either side of it, with factors that move values
     * across the range, over a length that leaves a scalar tail; and the largest magnitude, NaN included.
     */
    @Test
    void vectorRoundingMatchesTheScalarBitForBit() {
        Fp8Activations.Rounding vector = VectorFp8Kernels.ROUNDING;
        for (Float8Format f : Float8Format.values()) {
            List<Float> values = new ArrayList<>();
            float[] table = f.decodeTable();
            for (int a = 0; a < 256; a++) {
                for (int b = 0; b < 256; b++) {
                    float lo = table[a], hi = table[b];
                    if (Float.isFinite(lo) && Float.isFinite(hi) && lo < hi && hi <= 2 * Math.max(Math.abs(lo), f.minNormal())) {
                        float tie = (float) (((double) lo + hi) / 2);
                        values.add(tie);
                        values.add(Math.nextUp(tie));
                        values.add(Math.nextDown(tie));
                    }
                }
            }
            float[] x = new float[values.size() + (1 << 24) + 7];
            int n = 0;
            for (float v : values) {
                x[n++] = v;
            }
            for (long bits = 0; bits < 1L << 32 && n < x.length; bits += 251) {
                x[n++] = Float.intBitsToFloat((int) bits);
            }
            for (float inv : new float[] {1f, 0x1p-7f, 3.5f, 0f}) {
                float[] expected = new float[n];
                float[] got = new float[n];
                Fp8Activations.SCALAR.round(x, 0, n, inv, f, expected);
                vector.round(x, 0, n, inv, f, got);
                for (int i = 0; i < n; i++) {
                    if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(got[i])) {
                        throw new AssertionError(f + ": " + x[i] + " (bits " + Integer.toHexString(Float.floatToRawIntBits(x[i]))
                                + ") times " + inv + " rounds to " + expected[i] + ", the vector kernels give " + got[i]);
                    }
                }
            }
            assertEquals(Fp8Activations.SCALAR.absMax(x, 0, 1000), vector.absMax(x, 0, 1000));
            float[] withNaN = {1f, -3f, Float.NaN, 2f, 0f, 5f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, -9f};
            assertTrue(Float.isNaN(vector.absMax(withNaN, 0, withNaN.length)));
            assertEquals(9f, vector.absMax(withNaN, 3, withNaN.length));
        }
    }

    @Test
    void everyCodeDecodesBitExactlyInBothTwins() {
        for (Float8Format f : Float8Format.values()) {
            // 3 rows of 259 codes: every code, at every alignment the vector loop and its tail see.
            int k = 259;
            byte[] codes = new byte[3 * k];
            for (int i = 0; i < codes.length; i++) {
                codes[i] = (byte) (i * 7 + i / k);
            }
            Fp8Layout w = Fp8Layout.of(Fp8Matrix.of(3, k, f, codes, new Fp8WeightScale.PerTensor(1f),
                    new Fp8InputQuantization.Static(f, 1f)));
            for (Fp8Kernels kern : kernels()) {
                float[] row = new float[k];
                for (int n = 0; n < 3; n++) {
                    kern.decodeRow(w, n, row);
                    for (int c = 0; c < k; c++) {
                        float want = f.toFloat(codes[n * k + c]);
                        assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(row[c]),
                                () -> kern.getClass().getSimpleName() + " " + f);
                    }
                }
            }
        }
    }

    @Test
    void everyOrdinaryCodeDecodesBitExactlyOnTheFastPath() {
        for (Float8Format f : Float8Format.values()) {
            int mask = f == Float8Format.E4M3FN ? 0x7F : 0x7C;
            java.io.ByteArrayOutputStream ordinary = new java.io.ByteArrayOutputStream();
            for (int rep = 0; rep < 3; rep++) {
                for (int code = 0; code < 256; code++) {
                    if ((code & mask) != mask) {
                        ordinary.write(code);
                    }
                }
            }
            byte[] codes = ordinary.toByteArray();
            Fp8Layout w = Fp8Layout.of(Fp8Matrix.of(1, codes.length, f, codes, new Fp8WeightScale.PerTensor(1f),
                    new Fp8InputQuantization.Static(f, 1f)));
            assertTrue(!w.hasSpecials());
            for (Fp8Kernels kern : kernels()) {
                float[] row = new float[codes.length];
                kern.decodeRow(w, 0, row);
                for (int c = 0; c < codes.length; c++) {
                    assertEquals(Float.floatToIntBits(f.toFloat(codes[c])), Float.floatToIntBits(row[c]),
                            kern.getClass().getSimpleName() + " " + f + " code " + (codes[c] & 0xFF));
                }
            }
        }
    }

    @Test
    void dotTwinsAgree() {
        SplittableRandom r = new SplittableRandom(SEED);
        List<Fp8Kernels> ks = kernels();
        for (int len : new int[] {0, 1, 7, 8, 15, 16, 17, 33, 129, 300}) {
            float[] a = new float[len + 5];
            float[] b = new float[len + 3];
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) r.nextGaussian();
            }
            for (int i = 0; i < b.length; i++) {
                b[i] = (float) r.nextGaussian();
            }
            double exact = 0;
            for (int i = 0; i < len; i++) {
                exact += (double) a[i + 5] * b[i + 3];
            }
            for (Fp8Kernels kern : ks) {
                assertEquals(exact, kern.dot(a, 5, b, 3, len), 1e-4 * Math.max(1, Math.sqrt(len)));
            }
        }
    }

    /** One input mode and weight scale, in both the core form and the oracle's spec form. */
    record Mode(String name, Float8InputScaleSpec in, Float8WeightScaleSpec ws) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Arguments> products() {
        List<Mode> modes = List.of(
                new Mode("static/tensor", Float8InputScaleSpec.staticTensor(), Float8WeightScaleSpec.tensor()),
                new Mode("static/row", Float8InputScaleSpec.staticTensor(), Float8WeightScaleSpec.rowwise()),
                new Mode("static/block", Float8InputScaleSpec.staticTensor(), Float8WeightScaleSpec.block(16, 40)),
                new Mode("tensor/tensor", Float8InputScaleSpec.dynamicTensor(null), Float8WeightScaleSpec.tensor()),
                new Mode("token/row ub", Float8InputScaleSpec.dynamicPerToken(1.5f), Float8WeightScaleSpec.rowwise()),
                new Mode("token/block", Float8InputScaleSpec.dynamicPerToken(null), Float8WeightScaleSpec.block(8, 32)),
                new Mode("block/block", Float8InputScaleSpec.dynamicBlock(32, null), Float8WeightScaleSpec.block(8, 32)),
                new Mode("block/block ub, k differ", Float8InputScaleSpec.dynamicBlock(24, 2f), Float8WeightScaleSpec.block(5, 40)),
                new Mode("weight-only/row", Float8InputScaleSpec.weightOnly(), Float8WeightScaleSpec.rowwise()),
                new Mode("weight-only/block", Float8InputScaleSpec.weightOnly(), Float8WeightScaleSpec.block(8, 32)));
        int[][] shapes = {{1, 1, 1}, {1, 300, 33}, {7, 129, 33}, {13, 7, 129}, {3, 64, 17}};
        List<Arguments> out = new ArrayList<>();
        int i = 0;
        for (Fp8Kernels kern : kernels()) {
            for (Float8Format f : Float8Format.values()) {
                for (Mode mode : modes) {
                    int[] s = shapes[i++ % shapes.length];
                    out.add(Arguments.of(kern, f, mode, s[0], s[1], s[2]));
                }
            }
        }
        // Every mode with enough rows of x for the vector kernels' packed GEMM: K over two of its
        // blocks and not a multiple of the vector length, N not a multiple of its slivers.
        for (Float8Format f : Float8Format.values()) {
            for (Mode mode : modes) {
                out.add(Arguments.of(kernels().get(1), f, mode, VectorGemm.PACKED_MIN_M + 8, 2 * VectorGemm.KC + 6, 50));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} {2} m={3} k={4} n={5}")
    @MethodSource("products")
    void fusedProductMatchesTheExactOracle(Fp8Kernels kern, Float8Format f, Mode mode, int m, int k, int n) {
        SplittableRandom r = new SplittableRandom(SEED ^ (31L * m + 7L * k + n));
        byte[] codes = new byte[n * k];
        double[] wq = new double[n * k];
        for (int i = 0; i < codes.length; i++) {
            codes[i] = f.fromFloat((float) (r.nextGaussian() * (r.nextInt(16) == 0 ? f.max() : 4)));
            wq[i] = f.toFloat(codes[i]);
        }
        int scaleCount = Math.toIntExact(mode.ws().scaleShape(n, k).numel());
        float[] wScales = new float[scaleCount];
        for (int i = 0; i < scaleCount; i++) {
            wScales[i] = (float) Math.scalb(1 + r.nextDouble(), -3 - r.nextInt(5));
        }
        float[] x = new float[m * k];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (r.nextGaussian() * (r.nextInt(32) == 0 ? 100 : 1));
        }
        if (m > 1) {
            java.util.Arrays.fill(x, k, 2 * k, 0f); // row 1 all zero: a zero dynamic scale
        }
        float staticScale = 3f / f.max();
        Fp8WeightScale ws = switch (mode.ws().granularity()) {
            case TENSOR -> new Fp8WeightScale.PerTensor(wScales[0]);
            case ROWWISE -> new Fp8WeightScale.PerRow(wScales);
            default -> new Fp8WeightScale.Block(mode.ws().blockSize().rows(), mode.ws().blockSize().cols(), wScales);
        };
        float ub = mode.in().upperBound();
        // Dynamic inputs are e4m3fn whatever the weights (vLLM, MAX): e5m2 weights meet e4m3fn x here.
        Float8Format xf = Fp8Oracle.inputFormat(f, mode.in());
        Fp8InputQuantization in = mode.in().isStatic() ? new Fp8InputQuantization.Static(f, staticScale)
                : mode.in().isWeightOnly() ? new Fp8InputQuantization.WeightOnly()
                : switch (mode.in().granularity()) {
                    case TENSOR -> new Fp8InputQuantization.DynamicPerTensor(xf, ub);
                    case COLWISE -> new Fp8InputQuantization.DynamicPerToken(xf, ub);
                    default -> new Fp8InputQuantization.DynamicBlock(xf, mode.in().blockSize().cols(), ub);
                };
        JvmBackend backend = kern instanceof Fp8Kernels.Scalar ? JvmBackend.scalar() : new JvmBackend(KernelSelection.vectorOrNull());
        float[] bias = new float[n];
        for (int j = 0; j < n; j++) {
            bias[j] = (float) r.nextGaussian();
        }
        var prepared = backend.prepare(List.of(Fp8Matrix.of(n, k, f, codes, ws, in)), Tensor.of(bias, n), DeviceRef.cpu(0));
        Tensor y = Tensor.allocate(DType.F32, Shape.of(m, n)).fill(Float.NaN);
        backend.linear(Tensor.of(x, m, k), prepared, y);

        double[] bd = new double[n];
        for (int j = 0; j < n; j++) {
            bd[j] = bias[j];
        }
        double[] ref = Fp8Oracle.linear(x, m, k, f, mode.in(), staticScale, wq, n, mode.ws(), wScales, bd);
        Comparison c = Comparison.of(y.toFloatArray(), ref);
        assertTrue(c.within(Tolerance.F32_ACCUMULATION), () -> "relative L2 " + c.relativeL2() + ", max abs " + c.maxAbsError());
    }

    /**
     * Weight-only fp8 takes x as it is: rows of magnitude 1e-20 and 1e30 beside ordinary ones, which
     * the kernels' 2^32 prescale and the weights' exponent rebias would otherwise push below the
     * normal range or past f32's, through the fused GEMV (m ≤ GEMV_MAX_M), the decode-a-row path and
     * the packed GEMM.
     */
    @Test
    void weightOnlyKeepsTinyAndHugeRowsExact() {
        SplittableRandom r = new SplittableRandom(SEED);
        Float8Format f = Float8Format.E4M3FN;
        int k = 200;
        int n = 11;
        byte[] codes = new byte[n * k];
        double[] wq = new double[n * k];
        for (int i = 0; i < codes.length; i++) {
            codes[i] = f.fromFloat((float) (r.nextGaussian() * 8));
            wq[i] = f.toFloat(codes[i]);
        }
        float[] wScales = new float[n];
        for (int j = 0; j < n; j++) {
            wScales[j] = (float) Math.scalb(1 + r.nextDouble(), -6);
        }
        for (int m : new int[] {3, VectorKernels.GEMV_MAX_M + 5, VectorGemm.PACKED_MIN_M + 8}) {
            float[] x = new float[m * k];
            double[] magnitude = {1e-20, 1, 1e30};
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (r.nextGaussian() * magnitude[(i / k) % 3]);
            }
            for (Fp8Kernels kern : kernels()) {
                JvmBackend backend = kern instanceof Fp8Kernels.Scalar ? JvmBackend.scalar() : new JvmBackend(KernelSelection.vectorOrNull());
                var prepared = backend.prepare(List.of(Fp8Matrix.of(n, k, f, codes, new Fp8WeightScale.PerRow(wScales),
                        new Fp8InputQuantization.WeightOnly())), null, DeviceRef.cpu(0));
                Tensor y = Tensor.allocate(DType.F32, Shape.of(m, n)).fill(Float.NaN);
                backend.linear(Tensor.of(x, m, k), prepared, y);
                double[] ref = Fp8Oracle.linear(x, m, k, f, Float8InputScaleSpec.weightOnly(), 0f, wq, n,
                        Float8WeightScaleSpec.rowwise(), wScales, null);
                for (int i = 0; i < m; i++) { // row by row: each row is judged against its own magnitude
                    float[] yr = java.util.Arrays.copyOfRange(y.toFloatArray(), i * n, (i + 1) * n);
                    Comparison c = Comparison.of(yr, java.util.Arrays.copyOfRange(ref, i * n, (i + 1) * n));
                    int row = i;
                    assertTrue(c.within(Tolerance.F32_ACCUMULATION), () -> kern.getClass().getSimpleName() + " m=" + m
                            + " row " + row + ": relative L2 " + c.relativeL2());
                }
            }
        }
    }

    static Stream<Arguments> gemvShapes() {
        List<Arguments> out = new ArrayList<>();
        for (Fp8Kernels kern : kernels()) {
            for (Float8Format f : Float8Format.values()) {
                for (int m = 1; m <= VectorKernels.GEMV_MAX_M; m++) {
                    for (int k : new int[] {1, 7, 16, 129, 4097}) {
                        out.add(Arguments.of(kern, f, m, k, m % 2 == 0));
                    }
                }
            }
        }
        return out.stream();
    }

    /**
     * The fused GEMV path (no specials) with every ordinary code equally likely, so about one
     * weight in 20 is subnormal and takes the layout's subnormal list; N = 9 leaves short blocks
     * of the 4-row kernel. Blocks of 40 weight and 24 input columns give segments that start off
     * the vector length.
     */
    @ParameterizedTest(name = "{0} {1} m={2} k={3} blocks={4}")
    @MethodSource("gemvShapes")
    void fusedGemvWithSubnormalsMatchesTheOracle(Fp8Kernels kern, Float8Format f, int m, int k, boolean blocks) {
        SplittableRandom r = new SplittableRandom(SEED ^ (31L * m + 7L * k) ^ f.ordinal());
        int n = 9;
        int special = f == Float8Format.E4M3FN ? 0x7F : 0x7C;
        byte[] codes = new byte[n * k];
        double[] wq = new double[n * k];
        for (int i = 0; i < codes.length; i++) {
            int code;
            do {
                code = r.nextInt(256);
            } while ((code & special) == special);
            codes[i] = (byte) code;
            wq[i] = f.toFloat(codes[i]);
        }
        Float8WeightScaleSpec wSpec = blocks ? Float8WeightScaleSpec.block(5, 40) : Float8WeightScaleSpec.rowwise();
        Float8InputScaleSpec inSpec = blocks ? Float8InputScaleSpec.dynamicBlock(24, null) : Float8InputScaleSpec.dynamicPerToken(null);
        float[] wScales = new float[Math.toIntExact(wSpec.scaleShape(n, k).numel())];
        for (int i = 0; i < wScales.length; i++) {
            wScales[i] = (float) Math.scalb(1 + r.nextDouble(), -3 - r.nextInt(5));
        }
        Fp8WeightScale ws = blocks ? new Fp8WeightScale.Block(5, 40, wScales) : new Fp8WeightScale.PerRow(wScales);
        Fp8InputQuantization in = blocks ? new Fp8InputQuantization.DynamicBlock(Float8Format.E4M3FN, 24, inSpec.upperBound())
                : new Fp8InputQuantization.DynamicPerToken(Float8Format.E4M3FN, inSpec.upperBound());
        float[] x = new float[m * k];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        JvmBackend backend = kern instanceof Fp8Kernels.Scalar ? JvmBackend.scalar() : new JvmBackend(KernelSelection.vectorOrNull());
        Fp8Matrix matrix = Fp8Matrix.of(n, k, f, codes, ws, in);
        assertTrue(!Fp8Layout.of(matrix).hasSpecials());
        var prepared = backend.prepare(List.of(matrix), null, DeviceRef.cpu(0));
        Tensor y = Tensor.allocate(DType.F32, Shape.of(m, n)).fill(Float.NaN);
        backend.linear(Tensor.of(x, m, k), prepared, y);
        double[] ref = Fp8Oracle.linear(x, m, k, f, inSpec, 1f, wq, n, wSpec, wScales, null);
        Comparison c = Comparison.of(y.toFloatArray(), ref);
        assertTrue(c.within(Tolerance.F32_ACCUMULATION), () -> "relative L2 " + c.relativeL2() + ", max abs " + c.maxAbsError());
    }
}

package dev.tornadonn.jvm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.backend.PreparedMatrix;
import dev.tornadonn.core.weights.DenseMatrix;
import dev.tornadonn.reference.Comparison;
import dev.tornadonn.reference.Oracle;
import dev.tornadonn.reference.Tolerance;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * f16 weights as a trained checkpoint has them, about 0.4 % subnormal: the kernels decode every
 * pattern exactly, subnormals kept apart by the GEMV (as zero in its vector loop, their products
 * added from {@link F16Subnormals}) and converted without a subnormal operand elsewhere.
 */
class F16WeightsTest {
    private static final long SEED = System.nanoTime();
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final DeviceRef CPU = DeviceRef.cpu(0);

    static {
        System.out.println("F16WeightsTest seed " + SEED);
    }

    /** The GEMM's decode (packing and the few-rows path) on every 16-bit pattern, bit for bit. */
    @Test
    void theVectorDecodeConvertsEveryPatternExactly() {
        MemorySegment w = Tensor.allocate(DType.F16, Shape.of(65536)).data();
        for (int p = 0; p < 65536; p++) {
            w.setAtIndex(HALF, p, (short) p);
        }
        float[] out = new float[VectorKernels.L];
        for (int p = 0; p < 65536; p += VectorKernels.L) {
            VectorKernels.f16(w, 2L * p, out, 0);
            for (int l = 0; l < VectorKernels.L; l++) {
                float want = Float.float16ToFloat((short) (p + l));
                if (Float.isNaN(want)) {
                    assertTrue(Float.isNaN(out[l]), "pattern " + (p + l));
                } else {
                    assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(out[l]), "pattern " + (p + l));
                }
            }
        }
    }

    /** Every subnormal, in every row position the finder's four-at-a-time scan and its tail see, and nothing else. */
    @Test
    void theFinderListsExactlyTheSubnormals() {
        SplittableRandom rnd = new SplittableRandom(SEED);
        for (int k : new int[] {1, 3, 4, 5, 31, 2048, 2051}) {
            int n = 7;
            MemorySegment w = Tensor.allocate(DType.F16, Shape.of(n, k)).data();
            List<List<Integer>> want = new ArrayList<>();
            for (int r = 0; r < n; r++) {
                List<Integer> cols = new ArrayList<>();
                for (int c = 0; c < k; c++) {
                    short h = switch (rnd.nextInt(4)) {
                        case 0 -> (short) (rnd.nextInt(0x400) | (rnd.nextBoolean() ? 0x8000 : 0)); // subnormal or ±0
                        case 1 -> (short) (0x0400 | rnd.nextInt(0x400)); // the smallest normals
                        default -> (short) rnd.nextInt(65536);
                    };
                    w.setAtIndex(HALF, (long) r * k + c, h);
                    if (F16Subnormals.isSubnormal(h)) {
                        cols.add(c);
                    }
                }
                want.add(cols);
            }
            F16Subnormals s = F16Subnormals.find(w, n, k);
            for (int r = 0; r < n; r++) {
                int[] got = java.util.Arrays.copyOfRange(s.columns(), s.rowStart()[r], s.rowStart()[r + 1]);
                assertArrayEquals(want.get(r).stream().mapToInt(Integer::intValue).toArray(), got, "k=" + k + " row " + r);
                for (int i = s.rowStart()[r]; i < s.rowStart()[r + 1]; i++) {
                    assertEquals(Float.float16ToFloat(w.getAtIndex(HALF, (long) r * k + s.columns()[i])), s.values()[i]);
                }
            }
        }
        for (int p = 0; p < 65536; p++) {
            short h = (short) p;
            boolean subnormal = (p & 0x7C00) == 0 && (p & 0x3FF) != 0;
            assertEquals(subnormal, F16Subnormals.isSubnormal(h), "pattern " + p);
        }
    }

    /**
     * Every 16-bit pattern through a prepared weight, as the backend's GEMV reads it: row p holds
     * pattern p at column c (in the vector loop, at a pair's low and high half, and in the tail),
     * zeros elsewhere, and x is one at c, so y[p] is the decoded weight.
     */
    @Test
    void thePreparedGemvDecodesEveryPatternExactly() {
        int n = 65536;
        int k = 2 * VectorKernels.L + 3;
        JvmBackend backend = new JvmBackend();
        for (int c : new int[] {0, 1, 2 * VectorKernels.L - 1, k - 1}) {
            Tensor w = Tensor.allocate(DType.F16, Shape.of(n, k));
            for (int p = 0; p < n; p++) {
                w.data().setAtIndex(HALF, (long) p * k + c, (short) p);
            }
            PreparedMatrix prepared = backend.prepare(List.of(DenseMatrix.of(w)), null, CPU);
            float[] x = new float[k];
            x[c] = 1f;
            Tensor y = Tensor.allocate(DType.F32, Shape.of(1, n)).fill(Float.NaN);
            backend.linear(Tensor.of(x, 1, k), prepared, y);
            for (int p = 0; p < n; p++) {
                float want = Float.float16ToFloat((short) p);
                float got = y.getFloat(p);
                if (Float.isNaN(want)) {
                    assertTrue(Float.isNaN(got), "pattern " + p + " in column " + c);
                } else {
                    assertEquals(want == 0f ? 0f : want, got, "pattern " + p + " in column " + c);
                }
            }
        }
    }

    /**
     * Weights drawn like a trained checkpoint's (normal, standard deviation 1/√k: about 0.4 %
     * subnormal at k = 8192) and some subnormals planted in the vector loop's columns and in the
     * tail, on every path (the GEMV at 1 to 4 rows, the few-rows and packed GEMMs), against the
     * float64 oracle.
     */
    @Test
    void checkpointLikeWeightsMatchTheOracleOnEveryPath() {
        SplittableRandom rnd = new SplittableRandom(SEED + 1);
        JvmBackend backend = new JvmBackend();
        for (int k : new int[] {8192, 8192 + 2 * VectorKernels.L - 1, 77}) {
            int n = 67;
            float[] v = new float[n * k];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (rnd.nextGaussian() / Math.sqrt(k));
            }
            for (int r = 0; r < n; r++) {
                v[r * k + rnd.nextInt(k - 1)] = Float.float16ToFloat((short) (1 + rnd.nextInt(0x3FF)));
                v[r * k + k - 1] = -Float.float16ToFloat((short) (1 + rnd.nextInt(0x3FF)));
            }
            Tensor w = Tensor.of(DType.F16, Shape.of(n, k), v);
            long subnormals = 0;
            for (long i = 0; i < w.numel(); i++) {
                subnormals += F16Subnormals.isSubnormal(w.data().getAtIndex(HALF, i)) ? 1 : 0;
            }
            assertTrue(subnormals >= 2L * n, "subnormals planted: " + subnormals);
            Tensor bias = Tensor.of(new float[n], n);
            for (int j = 0; j < n; j++) {
                bias.setFloat(j, (float) rnd.nextGaussian());
            }
            PreparedMatrix prepared = backend.prepare(List.of(DenseMatrix.of(w)), bias, CPU);
            for (int m : new int[] {1, 2, 3, 4, 5, 8, 64}) {
                float[] xs = new float[m * k];
                for (int i = 0; i < xs.length; i++) {
                    xs[i] = (float) rnd.nextGaussian();
                }
                Tensor x = Tensor.of(xs, m, k);
                Tensor y = Tensor.allocate(DType.F32, Shape.of(m, n)).fill(Float.NaN);
                backend.linear(x, prepared, y);
                double[] xd = Oracle.decode(x);
                double[] wd = Oracle.decode(w);
                double[] bd = Oracle.decode(bias);
                Comparison c = Comparison.of(y.toFloatArray(), Oracle.linear(xd, m, k, wd, n, bd),
                        Oracle.linear(Oracle.abs(xd), m, k, Oracle.abs(wd), n, Oracle.abs(bd)));
                int rows = m;
                assertTrue(c.within(Tolerance.F32_ACCUMULATION), () -> "k=" + k + " m=" + rows + " seed " + SEED + ": " + c);
            }
        }
    }
}

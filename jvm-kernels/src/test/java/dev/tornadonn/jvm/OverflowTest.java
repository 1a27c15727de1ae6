package dev.tornadonn.jvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.backend.PreparedMatrix;
import dev.tornadonn.core.numeric.Float8Format;
import dev.tornadonn.core.weights.DenseMatrix;
import dev.tornadonn.core.weights.Fp8InputQuantization;
import dev.tornadonn.core.weights.Fp8Matrix;
import dev.tornadonn.core.weights.Fp8WeightScale;
import dev.tornadonn.core.weights.GroupQuantizedMatrix;
import dev.tornadonn.core.weights.WeightMatrix;
import dev.tornadonn.layers.quant.Float8InputScaleSpec;
import dev.tornadonn.layers.quant.Float8WeightScaleSpec;
import dev.tornadonn.reference.Fp8Oracle;
import dev.tornadonn.reference.Oracle;
import dev.tornadonn.reference.RandomTensors;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Inputs near f32's largest value: where float64 says a result is beyond f32 the output is that
 * signed infinity, never NaN, and where it is within f32 the output is finite and right, for
 * every weight format, through the GEMV (M = 1) and GEMM paths of both kernel sets.
 */
class OverflowTest {
    private static final long SEED = Long.getLong("tornadonn.seed", System.nanoTime());
    private static final int N = 24;
    private static final int K = 128;

    static {
        System.out.println("OverflowTest seed " + SEED + " (rerun with -Dtornadonn.seed=" + SEED + ")");
    }

    @Test
    void overflowIsSignedInfinityForEveryFormat() {
        SplittableRandom rnd = new SplittableRandom(SEED);
        for (JvmBackend backend : List.of(new JvmBackend(), JvmBackend.scalar())) {
            for (DType t : List.of(DType.F32, DType.BF16, DType.F16)) {
                Tensor w = RandomTensors.uniform(t, Shape.of(N, K), rnd);
                check(backend, DenseMatrix.of(w), Oracle.decode(w), null, rnd, t.name());
            }
            GroupQuantizedMatrix g = gptq(rnd);
            double[] gw = new double[N * K];
            for (int i = 0; i < gw.length; i++) {
                int r = i / K, c = i % K, grp = g.groupOf()[c];
                gw[i] = (double) g.scales()[r * g.groups() + grp] * (g.code(r, c) - g.zeros()[r * g.groups() + grp]);
            }
            check(backend, g, gw, null, rnd, "gptq");
            for (boolean perToken : new boolean[] {true, false}) {
                byte[] codes = new byte[N * K];
                double[] wq = new double[N * K];
                for (int i = 0; i < codes.length; i++) {
                    codes[i] = Float8Format.E4M3FN.fromFloat((float) (rnd.nextGaussian() * 100));
                    wq[i] = Float8Format.E4M3FN.toFloat(codes[i]);
                }
                float[] rowScales = new float[N];
                java.util.Arrays.fill(rowScales, 1f / 448);
                Fp8InputQuantization in = perToken ? new Fp8InputQuantization.DynamicPerToken(Float8Format.E4M3FN, Float.POSITIVE_INFINITY)
                        : new Fp8InputQuantization.DynamicPerTensor(Float8Format.E4M3FN, Float.POSITIVE_INFINITY);
                Fp8Matrix f = Fp8Matrix.of(N, K, Float8Format.E4M3FN, codes, new Fp8WeightScale.PerRow(rowScales), in);
                Float8InputScaleSpec spec = perToken ? Float8InputScaleSpec.dynamicPerToken(null) : Float8InputScaleSpec.dynamicTensor(null);
                check(backend, f, null, (x, m) -> Fp8Oracle.linear(x, m, K, Float8Format.E4M3FN, spec, 1f, wq, N,
                        Float8WeightScaleSpec.rowwise(), rowScales, null), rnd, "fp8 " + (perToken ? "per token" : "per tensor"));
            }
        }
    }

    interface Reference {
        double[] of(float[] x, int m);
    }

    /** Either decoded weights for a plain float64 product, or a format's own reference. */
    private static void check(JvmBackend backend, WeightMatrix w, double[] weights, Reference reference, SplittableRandom rnd,
                              String what) {
        PreparedMatrix p = backend.prepare(List.of(w), null, DeviceRef.cpu(0));
        for (int m : new int[] {1, 5}) {
            float[] x = new float[m * K];
            for (int i = 0; i < x.length; i++) {
                // Large, mostly one sign per row, so most results are beyond f32 and some are not.
                double sign = rnd.nextDouble() < (i / K % 2 == 0 ? 0.9 : 0.5) ? 1 : -1;
                x[i] = (float) (sign * Float.MAX_VALUE * rnd.nextDouble(0.05, 1));
            }
            double[] ref = reference != null ? reference.of(x, m) : Oracle.linear(toDouble(x), m, K, weights, N, null);
            Tensor y = Tensor.allocate(DType.F32, Shape.of(m, N)).fill(Float.NaN);
            backend.linear(Tensor.of(x, m, K), p, y);
            String where = what + ", M=" + m + ", " + backend.name() + " (seed " + SEED + ")";
            for (int i = 0; i < ref.length; i++) {
                float got = y.getFloat(i);
                if (Math.abs(ref[i]) > 1.01 * Float.MAX_VALUE) {
                    assertEquals(Math.signum(ref[i]) * Float.POSITIVE_INFINITY, got, where + ", output " + i + ": " + ref[i]);
                } else if (Math.abs(ref[i]) < 0.99 * Float.MAX_VALUE) {
                    assertTrue(Float.isFinite(got), where + ", output " + i + ": " + got + " for " + ref[i]);
                    assertTrue(Math.abs(got - ref[i]) <= 1e-3 * Float.MAX_VALUE, where + ", output " + i + ": " + got + " for " + ref[i]);
                } else {
                    assertTrue(!Float.isNaN(got), where + ", output " + i);
                }
            }
        }
    }

    private static GroupQuantizedMatrix gptq(SplittableRandom rnd) {
        int groups = 4;
        byte[] codes = new byte[N * K];
        for (int i = 0; i < codes.length; i++) {
            codes[i] = (byte) rnd.nextInt(16);
        }
        float[] scales = new float[N * groups];
        float[] zeros = new float[N * groups];
        for (int i = 0; i < scales.length; i++) {
            scales[i] = (float) rnd.nextDouble(0.01, 0.1);
            zeros[i] = 8;
        }
        int[] groupOf = new int[K];
        for (int c = 0; c < K; c++) {
            groupOf[c] = c / (K / groups);
        }
        return GroupQuantizedMatrix.pack(N, K, 4, groups, codes, scales, zeros, groupOf);
    }

    private static double[] toDouble(float[] x) {
        double[] d = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            d[i] = x[i];
        }
        return d;
    }
}

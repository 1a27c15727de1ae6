package dev.tornadonn.twins;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tornadonn.core.Activation;
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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Both work-group kernels' twins against the EJML float64 oracle: awkward M, N and K (1, 7, 17,
 * 129, 4097, none a multiple of the tile), every weight format, bias on and off, plain and gated
 * with every activation. Outputs start as NaN, so an element a kernel forgets fails.
 */
class KernelTwinsTest {
    private static final long SEED = Long.getLong("tornadonn.seed", System.nanoTime());

    static {
        System.out.println("kernel twins seed " + SEED + " (rerun with -Dtornadonn.seed=" + SEED + ")");
    }

    record Case(String kernel, int m, int n, int k, DType dtype, boolean bias, Activation gatedAct) {
        @Override
        public String toString() {
            return kernel + " " + m + "x" + n + "x" + k + " " + dtype + (bias ? " +bias" : "")
                    + (gatedAct != null ? " gated " + gatedAct.configName() : "");
        }
    }

    static Stream<Case> cases() {
        int[][] shapes = {{1, 1, 1}, {1, 7, 129}, {3, 33, 17}, {7, 5, 4097}, {8, 16, 16}, {9, 17, 31}, {17, 129, 100},
                {64, 45, 257}, {33, 1, 7}, {65, 130, 33}, {129, 64, 20}};
        List<Case> cases = new ArrayList<>();
        int i = 0;
        for (String kernel : new String[] {"gemm", "gemv"}) {
            for (int[] s : shapes) {
                for (DType dtype : new DType[] {DType.F32, DType.BF16, DType.F16}) {
                    boolean bias = i++ % 2 == 0;
                    cases.add(new Case(kernel, s[0], s[1], s[2], dtype, bias, null));
                }
            }
            for (Activation act : Activation.values()) {
                int[] s = shapes[i % shapes.length];
                cases.add(new Case(kernel, s[0], s[1], s[2], pick(i),
                        i % 2 == 0, act));
                i++;
            }
        }
        return cases.stream();
    }

    private static DType pick(int i) {
        return new DType[] {DType.F32, DType.BF16, DType.F16}[i % 3];
    }

    @ParameterizedTest(name = "{index}: {0}")
    @MethodSource("cases")
    void matchesTheOracle(Case c) {
        SplittableRandom rnd = new SplittableRandom(SEED ^ c.toString().hashCode());
        boolean gated = c.gatedAct() != null;
        int rows = gated ? 2 * c.n() : c.n();
        Tensor x = RandomTensors.uniform(DType.F32, Shape.of(c.m(), c.k()), rnd);
        Tensor w = RandomTensors.uniform(c.dtype(), Shape.of(rows, c.k()), rnd);
        Tensor b = c.bias() ? RandomTensors.uniform(DType.F32, Shape.of(rows), rnd) : null;

        float[] y = new float[c.m() * c.n()];
        java.util.Arrays.fill(y, Float.NaN);
        int act = gated ? KernelActivation.code(c.gatedAct()) : KernelActivation.NONE;
        float[] bias = b == null ? null : b.toFloatArray();
        if (c.kernel().equals("gemm")) {
            TiledGemmTwin.run(x.toFloatArray(), c.m(), weights(w)::at, bias, y, c.n(), c.k(), act, gated ? 1 : 0, b != null ? 1 : 0);
        } else {
            RowGemvTwin.run(x.toFloatArray(), c.m(), weights(w)::at, bias, y, c.n(), c.k(), act, gated ? 1 : 0, b != null ? 1 : 0);
        }

        double[] xd = Oracle.decode(x);
        double[] wd = Oracle.decode(w);
        double[] bd = b == null ? null : Oracle.decode(b);
        double[] ref;
        double[] scale;
        if (!gated) {
            ref = Oracle.linear(xd, c.m(), c.k(), wd, c.n(), bd);
            scale = Oracle.linear(Oracle.abs(xd), c.m(), c.k(), Oracle.abs(wd), c.n(), bd == null ? null : Oracle.abs(bd));
        } else {
            double[] all = Oracle.linear(xd, c.m(), c.k(), wd, rows, bd);
            double[] allScale = Oracle.linear(Oracle.abs(xd), c.m(), c.k(), Oracle.abs(wd), rows, bd == null ? null : Oracle.abs(bd));
            ref = new double[c.m() * c.n()];
            scale = new double[ref.length];
            for (int i = 0; i < c.m(); i++) {
                for (int j = 0; j < c.n(); j++) {
                    double g = all[i * rows + j];
                    double u = all[i * rows + c.n() + j];
                    ref[i * c.n() + j] = Oracle.activate(c.gatedAct(), g) * u;
                    // |act(g)| ≤ 1.13|g| + 1 for every activation here, so this bounds the rounding's reach.
                    scale[i * c.n() + j] = (1.13 * allScale[i * rows + j] + 1) * allScale[i * rows + c.n() + j];
                }
            }
        }
        Comparison cmp = Comparison.of(y, ref, scale);
        assertTrue(cmp.within(Tolerance.F32_ACCUMULATION), () -> c + ": " + cmp);
    }

    private static KernelWeight weights(Tensor w) {
        int format = WeightFormat.of(w.dtype());
        int rows = w.shape().dim(0);
        int cols = w.shape().dim(1);
        if (format == WeightFormat.F32) {
            return KernelWeight.ofF32(w.toFloatArray(), rows, cols);
        }
        short[] bits = new short[Math.toIntExact(w.numel())];
        java.lang.foreign.MemorySegment.copy(w.data(), java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, 0, bits, 0, bits.length);
        return KernelWeight.ofHalf(format, bits, rows, cols);
    }
}

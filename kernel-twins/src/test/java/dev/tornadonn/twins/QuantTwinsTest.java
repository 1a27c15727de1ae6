package dev.tornadonn.twins;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tornadonn.core.numeric.Float8Format;
import dev.tornadonn.core.weights.Fp8InputQuantization;
import dev.tornadonn.core.weights.Fp8Matrix;
import dev.tornadonn.core.weights.Fp8WeightScale;
import dev.tornadonn.core.weights.GroupQuantizedMatrix;
import dev.tornadonn.core.weights.WeightMatrix;
import dev.tornadonn.layers.quant.Float8InputScaleSpec;
import dev.tornadonn.layers.quant.Float8WeightScaleSpec;
import dev.tornadonn.reference.Comparison;
import dev.tornadonn.reference.Fp8Oracle;
import dev.tornadonn.reference.Oracle;
import dev.tornadonn.reference.Tolerance;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The quantised kernels' twins (GEMV and tiled GEMM over packed GPTQ and fp8 codes, and the fp8
 * input kernels) against the float64 oracle: every GPTQ bit width with plain and act-order groups,
 * symmetric and asymmetric zeros, gate/up pairs with different group maps; both fp8 formats with
 * every weight-scale granularity and every input quantisation. Outputs start as NaN.
 */
class QuantTwinsTest {
    private static final long SEED = Long.getLong("tornadonn.seed", System.nanoTime());

    static {
        System.out.println("quant twins seed " + SEED + " (rerun with -Dtornadonn.seed=" + SEED + ")");
    }

    record GptqCase(String kernel, int m, int n, int k, int bits, int groupSize, boolean actOrder, boolean gated) {}

    static Stream<GptqCase> gptqCases() {
        int[][] shapes = {{1, 7, 129}, {3, 33, 96}, {9, 17, 31}, {8, 5, 300}, {17, 70, 64}, {1, 1, 1}, {40, 65, 130}};
        List<GptqCase> cases = new ArrayList<>();
        int i = 0;
        for (String kernel : new String[] {"gemv", "gemm"}) {
            for (int bits : new int[] {2, 3, 4, 8}) {
                for (int[] s : shapes) {
                    if (i++ % 2 == 0) {
                        int groupSize = new int[] {32, 16, -1, 7}[i % 4];
                        cases.add(new GptqCase(kernel, s[0], s[1], s[2], bits, groupSize, i % 3 == 0, i % 5 == 1));
                    }
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{index}: {0}")
    @MethodSource("gptqCases")
    void gptqMatchesTheOracle(GptqCase c) {
        SplittableRandom rnd = new SplittableRandom(SEED ^ c.toString().hashCode());
        int blocks = c.gated() ? 2 : 1;
        List<WeightMatrix> ws = new ArrayList<>();
        double[] wd = new double[blocks * c.n() * c.k()];
        for (int b = 0; b < blocks; b++) {
            GroupQuantizedMatrix g = randomGptq(c.n(), c.k(), c.bits(), c.groupSize(), c.actOrder(), rnd);
            ws.add(g);
            for (int r = 0; r < c.n(); r++) {
                for (int col = 0; col < c.k(); col++) {
                    int group = g.groupOf()[col];
                    wd[(b * c.n() + r) * c.k() + col] = (double) g.scales()[r * g.groups() + group]
                            * (g.code(r, col) - g.zeros()[r * g.groups() + group]);
                }
            }
        }
        float[] x = uniform(c.m() * c.k(), rnd);
        check(c.kernel(), c.m(), c.n(), c.k(), ws, x, Oracle.decode(dev.tornadonn.core.Tensor.of(
                dev.tornadonn.core.DType.F32, dev.tornadonn.core.Shape.of(x.length), x)), wd, c.gated(), rnd, c.toString());
    }

    record Fp8Case(String kernel, int m, int n, int k, Float8Format format, String weight, String input, boolean gated) {}

    static Stream<Fp8Case> fp8Cases() {
        int[][] shapes = {{1, 7, 129}, {3, 33, 96}, {9, 17, 31}, {8, 5, 300}, {17, 70, 64}, {1, 1, 1}, {40, 65, 130}};
        String[] weights = {"tensor", "row", "block16x32", "block32x64"};
        String[] inputs = {"static", "tensor", "token", "token-ub2", "block64", "block7", "weight-only"};
        List<Fp8Case> cases = new ArrayList<>();
        int i = 0;
        for (String kernel : new String[] {"gemv", "gemm"}) {
            for (Float8Format f : Float8Format.values()) {
                for (String in : inputs) {
                    int[] s = shapes[i % shapes.length];
                    cases.add(new Fp8Case(kernel, s[0], s[1], s[2], f, weights[i % weights.length], in, i % 4 == 3));
                    i++;
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{index}: {0}")
    @MethodSource("fp8Cases")
    void fp8MatchesTheOracle(Fp8Case c) {
        SplittableRandom rnd = new SplittableRandom(SEED ^ c.toString().hashCode());
        int k = c.k();
        Float8Format f = c.format();
        Float8WeightScaleSpec wspec = switch (c.weight()) {
            case "tensor" -> Float8WeightScaleSpec.tensor();
            case "row" -> Float8WeightScaleSpec.rowwise();
            case "block16x32" -> Float8WeightScaleSpec.block(16, 32);
            default -> Float8WeightScaleSpec.block(32, 64);
        };
        float ub = c.input().endsWith("ub2") ? 2f : Float.POSITIVE_INFINITY;
        Float8InputScaleSpec ispec;
        Fp8InputQuantization iq;
        float[] x = new float[c.m() * k];
        for (int i = 0; i < x.length; i++) {
            double v = rnd.nextDouble() * 8 - 4;
            x[i] = (float) (rnd.nextInt(64) == 0 ? v * 300 : v);
        }
        float staticScale = 0f;
        // Dynamic inputs are e4m3fn whatever the weights (vLLM, MAX); a static scale keeps the weights' format.
        Float8Format xf = c.input().equals("static") ? f : Float8Format.E4M3FN;
        switch (c.input()) {
            case "static" -> {
                float amax = 0f;
                for (float v : x) {
                    amax = Math.max(amax, Math.abs(v));
                }
                staticScale = Math.max(amax, 1f) / f.max() * 0.8f;
                ispec = Float8InputScaleSpec.staticTensor();
                iq = new Fp8InputQuantization.Static(f, staticScale);
            }
            case "tensor" -> {
                ispec = Float8InputScaleSpec.dynamicTensor(null);
                iq = new Fp8InputQuantization.DynamicPerTensor(xf, ub);
            }
            case "weight-only" -> {
                ispec = Float8InputScaleSpec.weightOnly();
                iq = new Fp8InputQuantization.WeightOnly();
            }
            case "block64", "block7" -> {
                int bk = c.input().equals("block64") ? 64 : 7;
                ispec = Float8InputScaleSpec.dynamicBlock(bk, null);
                iq = new Fp8InputQuantization.DynamicBlock(xf, bk, ub);
            }
            default -> {
                ispec = Float8InputScaleSpec.dynamicPerToken(Float.isInfinite(ub) ? null : ub);
                iq = new Fp8InputQuantization.DynamicPerToken(xf, ub);
            }
        }
        if (c.m() > 1) {
            Arrays.fill(x, 0, k, 0f); // an all-zero row: a zero scale quantises to zeros
        }
        int blocks = c.gated() ? 2 : 1;
        List<WeightMatrix> ws = new ArrayList<>();
        double[] wd = new double[blocks * c.n() * k];
        for (int b = 0; b < blocks; b++) {
            byte[] codes = new byte[c.n() * k];
            for (int i = 0; i < codes.length; i++) {
                codes[i] = rnd.nextInt(8) == 0 ? (byte) rnd.nextInt(256) : f.fromFloat((float) (rnd.nextGaussian() * 8));
                if (f.toFloat(codes[i]) != f.toFloat(codes[i]) || Float.isInfinite(f.toFloat(codes[i]))) {
                    codes[i] = 0; // no NaN or infinity weights here: they would make the whole comparison NaN
                }
            }
            int count = Math.toIntExact(scaleCount(wspec, c.n(), k));
            float[] scales = new float[count];
            for (int i = 0; i < count; i++) {
                scales[i] = (float) Math.scalb(1 + rnd.nextDouble(), -4 - rnd.nextInt(7));
            }
            Fp8WeightScale wscale = switch (c.weight()) {
                case "tensor" -> new Fp8WeightScale.PerTensor(scales[0]);
                case "row" -> new Fp8WeightScale.PerRow(scales);
                default -> new Fp8WeightScale.Block(wspec.blockSize().rows(), wspec.blockSize().cols(), scales);
            };
            Fp8Matrix fm = Fp8Matrix.of(c.n(), k, f, codes, wscale, iq);
            ws.add(fm);
            double[] wq = new double[c.n() * k];
            for (int i = 0; i < wq.length; i++) {
                wq[i] = f.toFloat(codes[i]);
            }
            // the oracle's dequantised weights: Fp8Oracle.linear with x = identity rows gives w·sw
            for (int r = 0; r < c.n(); r++) {
                for (int col = 0; col < k; col++) {
                    wd[(b * c.n() + r) * k + col] = wq[r * k + col] * (double) wscale.scale(r, col, k);
                }
            }
        }
        double[] xd = Fp8Oracle.quantiseInput(x, c.m(), k, Fp8Oracle.inputFormat(f, ispec), ispec, staticScale);
        if (!Float.isInfinite(ub) && !c.input().startsWith("token")) {
            throw new AssertionError("upper bounds are only drawn for per-token inputs here");
        }
        check(c.kernel(), c.m(), c.n(), k, ws, x, xd, wd, c.gated(), rnd, c.toString());
    }

    /**
     * Runs the twins on {@code x} (quantised first by the layout's input twin, for fp8 and int8)
     * and compares with the oracle on {@code xd} (x as the oracle quantises it) and {@code wd}.
     */
    static void check(String kernel, int m, int n, int k, List<WeightMatrix> ws, float[] x, double[] xd, double[] wd,
                              boolean gated, SplittableRandom rnd, String what) {
        QuantLayout layout = QuantLayout.of(ws);
        int[] codes = layout.codes(ws);
        int rows = gated ? 2 * n : n;
        boolean bias = rnd.nextBoolean();
        float[] b = bias ? uniform(rows, rnd) : null;
        float[] in = x;
        if (layout.quantisesInput()) {
            in = new float[x.length];
            Arrays.fill(in, Float.NaN);
            if (layout.int8()) {
                Int8InputTwin.run(x, m, layout, in);
            } else {
                Fp8InputTwin.run(x, m, layout, in);
            }
        }
        float[] y = new float[m * n];
        Arrays.fill(y, Float.NaN);
        TwinWeights w = KernelWeight.ofPacked(layout, codes)::at;
        int act = gated ? KernelActivation.SILU : KernelActivation.NONE;
        if (kernel.equals("gemm")) {
            TiledGemmTwin.run(in, m, w, b, y, n, k, act, gated ? 1 : 0, bias ? 1 : 0);
        } else {
            RowGemvTwin.run(in, m, w, b, y, n, k, act, gated ? 1 : 0, bias ? 1 : 0);
        }
        double[] bd = null;
        if (b != null) {
            bd = new double[rows];
            for (int i = 0; i < rows; i++) {
                bd[i] = b[i];
            }
        }
        double[] all = Oracle.linear(xd, m, k, wd, rows, bd);
        double[] allScale = Oracle.linear(Oracle.abs(xd), m, k, Oracle.abs(wd), rows, bd == null ? null : Oracle.abs(bd));
        double[] ref = all;
        double[] scale = allScale;
        if (gated) {
            ref = new double[m * n];
            scale = new double[m * n];
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    ref[i * n + j] = Oracle.activate(dev.tornadonn.core.Activation.SILU, all[i * rows + j]) * all[i * rows + n + j];
                    scale[i * n + j] = (1.13 * allScale[i * rows + j] + 1) * allScale[i * rows + n + j];
                }
            }
        }
        Comparison cmp = Comparison.of(y, ref, scale);
        assertTrue(cmp.within(Tolerance.F32_ACCUMULATION), () -> what + ": " + cmp);
    }

    private static long scaleCount(Float8WeightScaleSpec spec, int n, int k) {
        return spec.scaleShape(n, k).numel();
    }

    private static GroupQuantizedMatrix randomGptq(int n, int k, int bits, int groupSize, boolean actOrder, SplittableRandom rnd) {
        int size = groupSize <= 0 ? k : groupSize;
        int groups = (k + size - 1) / size;
        int[] groupOf = new int[k];
        for (int col = 0; col < k; col++) {
            groupOf[col] = col / size;
        }
        if (actOrder) {
            for (int col = k - 1; col > 0; col--) {
                int j = rnd.nextInt(col + 1);
                int t = groupOf[col];
                groupOf[col] = groupOf[j];
                groupOf[j] = t;
            }
        }
        byte[] codes = new byte[n * k];
        for (int i = 0; i < codes.length; i++) {
            codes[i] = (byte) rnd.nextInt(1 << bits);
        }
        float[] scales = new float[n * groups];
        float[] zeros = new float[n * groups];
        boolean sym = rnd.nextBoolean();
        for (int i = 0; i < scales.length; i++) {
            scales[i] = Float.float16ToFloat(Float.floatToFloat16((float) (rnd.nextDouble() * 0.1 + 0.001)));
            zeros[i] = sym ? 1 << (bits - 1) : rnd.nextInt(1 << bits);
        }
        return GroupQuantizedMatrix.pack(n, k, bits, groups, codes, scales, zeros, groupOf);
    }

    static float[] uniform(int count, SplittableRandom rnd) {
        float[] v = new float[count];
        for (int i = 0; i < count; i++) {
            v[i] = (float) (rnd.nextDouble() * 2 - 1);
        }
        return v;
    }

    /** The device's fp8 rounding equals the format's own for every code's neighbourhood and odd values. */
    @Test
    void fp8RoundingMatchesTheFormat() {
        SplittableRandom rnd = new SplittableRandom(SEED);
        for (Float8Format f : Float8Format.values()) {
            int format = f == Float8Format.E4M3FN ? QuantDecode.E4M3FN : QuantDecode.E5M2;
            List<Float> probes = new ArrayList<>(List.of(0f, -0f, Float.MIN_VALUE, Float.MAX_VALUE, -Float.MAX_VALUE,
                    Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, f.max(), 464f, 480f, 61440f, 1e-30f));
            for (int c = 0; c < 256; c++) {
                float v = f.toFloat((byte) c);
                if (Float.isFinite(v)) {
                    probes.add(v);
                    probes.add(Math.nextUp(v));
                    probes.add(Math.nextDown(v));
                    for (int c2 = 0; c2 < 256; c2++) { // midpoints between neighbours: the ties
                        float v2 = f.toFloat((byte) c2);
                        if (Float.isFinite(v2) && Math.abs(v2 - v) > 0 && Math.abs(v2 - v) <= Math.abs(v) / 2 + 1e-30f) {
                            probes.add((v + v2) / 2);
                        }
                    }
                }
            }
            for (int i = 0; i < 20000; i++) {
                probes.add((float) (rnd.nextGaussian() * Math.scalb(1.0, rnd.nextInt(40) - 20)));
            }
            for (float v : probes) {
                float want = f.round(v);
                float got = QuantDecode.roundFp8(v, format);
                assertEquals(Float.floatToIntBits(Math.abs(want)), Float.floatToIntBits(Math.abs(got)), () -> f + " " + v);
                if (want != 0) {
                    assertEquals(Math.signum(want), Math.signum(got), () -> f + " " + v);
                }
            }
        }
    }
}

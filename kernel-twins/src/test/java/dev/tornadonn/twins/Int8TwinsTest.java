package dev.tornadonn.twins;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.weights.Int8InputQuantization;
import dev.tornadonn.core.weights.Int8Matrix;
import dev.tornadonn.core.weights.Int8WeightScale;
import dev.tornadonn.core.weights.WeightMatrix;
import dev.tornadonn.layers.quant.Int8Scheme;
import dev.tornadonn.reference.Int8Oracle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The int8 W8A8 twins: the device's weight decode, its input kernel ({@link Int8InputTwin}) and
 * the GEMV and tiled GEMM over int8 codes, against the float64 oracle ({@link Int8Oracle}, which
 * quantises x as docs/INT8.md and the JVM backend do). The input codes must match the oracle's to
 * the bit in every scheme: ties, saturation, zero and constant rows, rows far from 0, scales whose
 * inverse overflows, rows holding NaN or ±∞. Outputs start as NaN.
 */
class Int8TwinsTest {
    private static final long SEED = Long.getLong("tornadonn.seed", System.nanoTime());

    static {
        System.out.println("int8 twins seed " + SEED + " (rerun with -Dtornadonn.seed=" + SEED + ")");
    }

    /** Every input scheme, symmetric and asymmetric, static and per token. */
    static Stream<Int8Scheme> inputSchemes() {
        List<Int8Scheme> schemes = new ArrayList<>();
        for (Int8Scheme.InputScale in : Int8Scheme.InputScale.values()) {
            for (boolean symmetric : new boolean[] {true, false}) {
                schemes.add(Int8Scheme.of(Int8Scheme.WeightScale.TENSOR, in, symmetric));
            }
        }
        return schemes.stream();
    }

    @Test
    void roundingIsRint() {
        SplittableRandom rnd = new SplittableRandom(SEED);
        List<Float> probes = new ArrayList<>(List.of(0f, -0f, 0.5f, -0.5f, 1.5f, -1.5f, 2.5f, -2.5f, 0x1p23f, -0x1p23f,
                0x1p23f - 0.5f, 0x1p23f - 1.5f, -(0x1p23f - 0.5f), 0x1p23f + 1, 0x1p24f, 0x1p31f, Float.MAX_VALUE,
                -Float.MAX_VALUE, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL, Float.POSITIVE_INFINITY,
                Float.NEGATIVE_INFINITY, Float.NaN, 127.5f, -128.5f, 126.5f, -127.5f));
        for (int i = -300; i <= 300; i++) {
            float tie = i + 0.5f;
            probes.addAll(List.of(tie, Math.nextUp(tie), Math.nextDown(tie), (float) i, Math.nextUp((float) i),
                    Math.nextDown((float) i)));
        }
        for (int i = 0; i < 50_000; i++) {
            probes.add((float) (rnd.nextGaussian() * Math.scalb(1.0, rnd.nextInt(60) - 30)));
        }
        for (float v : probes) {
            float want = (float) Math.rint(v);
            float got = QuantDecode.roundHalfEven(v);
            assertTrue(want == got || (want != want && got != got), () -> v + ": rint " + want + ", got " + got);
        }
    }

    @Test
    void int8CodesSaturateAndReadNanAsZero() {
        assertEquals(127, QuantDecode.int8Code(127f, 0f));
        assertEquals(127, QuantDecode.int8Code(128f, 0f));
        assertEquals(127, QuantDecode.int8Code(Float.POSITIVE_INFINITY, -40f));
        assertEquals(-128, QuantDecode.int8Code(-129f, 0f));
        assertEquals(-128, QuantDecode.int8Code(Float.NEGATIVE_INFINITY, 40f));
        assertEquals(-128, QuantDecode.int8Code(-1e30f, 1e9f));
        assertEquals(0, QuantDecode.int8Code(Float.NaN, 0f));
        assertEquals(-17, QuantDecode.int8Code(Float.NaN, -17f));
        // a zero point far from 0 meeting a rounded input near its negative: saturated as the exact sum is
        assertEquals(0, QuantDecode.int8Code(2_000_000_000f, -2_000_000_000f));
        assertEquals(127, QuantDecode.int8Code(2_000_000_128f, -2_000_000_000f));
        assertEquals(-128, QuantDecode.int8Code(1_999_999_872f, -2_000_000_000f));
        assertEquals(-3, QuantDecode.int8Code(255_131f, -255_134f));
        for (int q = 0; q < 256; q++) {
            assertEquals((byte) q, QuantDecode.signedByte(q));
        }
    }

    /**
     * The input kernel's twin against the oracle, row by row: each row's {@code (q − z)·s} equal
     * to the oracle's rounded to f32, bit for bit (exact while {@code |q − z|} stays below 2^24,
     * which every row here but the far one keeps); NaN for a row holding NaN or ±∞.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("inputSchemes")
    void inputCodesMatchTheOracleToTheBit(Int8Scheme scheme) {
        SplittableRandom rnd = new SplittableRandom(SEED ^ scheme.toString().hashCode());
        // A power of two keeps x / s exact, so ties stay ties; another scale tells x / s from x·(1/s).
        float[] staticScales = scheme.isStatic() ? new float[] {0x1p-5f, 0.0371f} : new float[] {0f};
        for (int k : new int[] {1, 2, 7, 64, 65, 129, 300}) {
          for (float staticScale : staticScales) {
            List<float[]> rows = new ArrayList<>();
            List<Boolean> exact = new ArrayList<>();
            int staticZero = scheme.isStatic() && !scheme.symmetricInput() ? rnd.nextInt(-128, 128) : 0;
            for (String kind : List.of("uniform", "ties", "near-ties", "saturating", "zero", "constant", "offset", "tiny",
                    "huge", "far", "nan", "inf", "-inf")) {
                float[] row = new float[k];
                for (int c = 0; c < k; c++) {
                    row[c] = (float) (rnd.nextDouble() * 8 - 4);
                }
                switch (kind) {
                    case "ties" -> {
                        for (int c = 0; c < k; c++) {
                            row[c] = rnd.nextInt(-120, 120) + 0.5f;
                            if (scheme.isStatic()) {
                                row[c] *= staticScale;
                            }
                        }
                        if (!scheme.isStatic()) { // s = 1: max|x| = 127, or a span from −127.5 to 127.5
                            row[0] = scheme.symmetricInput() ? 127f : -127.5f;
                            if (k > 1 && !scheme.symmetricInput()) {
                                row[1] = 127.5f;
                            }
                        }
                    }
                    case "near-ties" -> {
                        // within a few ulps of (j + ½)·s, where rne(x / s), rne(x·(1/s)) and rne(x·(127 / max|x|)) part
                        float a = 5.1f; // 127 / a and 1 / (a / 127) differ in f32
                        float rowScale = scheme.isStatic() ? staticScale : scheme.symmetricInput() ? a / 127f : (a + a) / 255f;
                        for (int c = 0; c < k; c++) {
                            float t = (rnd.nextInt(-100, 100) + 0.5f) * rowScale;
                            for (int step = rnd.nextInt(-2, 3); step != 0; step -= Integer.signum(step)) {
                                t = step > 0 ? Math.nextUp(t) : Math.nextDown(t);
                            }
                            row[c] = t;
                        }
                        if (!scheme.isStatic()) {
                            row[0] = scheme.symmetricInput() ? a : -a;
                            if (k > 1 && !scheme.symmetricInput()) {
                                row[1] = a;
                            }
                        }
                    }
                    case "saturating" -> {
                        for (int c = 0; c < k; c += 3) {
                            row[c] = (float) (rnd.nextBoolean() ? 1 : -1) * (scheme.isStatic() ? 200 * staticScale : 40);
                        }
                    }
                    case "zero" -> Arrays.fill(row, 0f);
                    case "constant" -> Arrays.fill(row, (float) (rnd.nextDouble() * 4 - 2));
                    case "offset" -> {
                        for (int c = 0; c < k; c++) {
                            row[c] += 1000f; // an asymmetric zero point near −255 000
                        }
                    }
                    case "tiny" -> {
                        for (int c = 0; c < k; c++) {
                            row[c] *= 0x1p-147f; // subnormal: 127 / max|x| and 1 / s overflow to ∞
                        }
                    }
                    case "huge" -> {
                        for (int c = 0; c < k; c++) {
                            row[c] *= 0x1p125f; // the asymmetric span overflows f32
                        }
                    }
                    case "far" -> {
                        for (int c = 0; c < k; c++) {
                            row[c] = 3e5f + row[c] * 1e-2f; // an asymmetric zero point beyond 2^24 (or int32)
                        }
                    }
                    case "nan" -> row[rnd.nextInt(k)] = Float.NaN;
                    case "inf" -> row[rnd.nextInt(k)] = Float.POSITIVE_INFINITY;
                    case "-inf" -> row[rnd.nextInt(k)] = Float.NEGATIVE_INFINITY;
                    default -> { }
                }
                rows.add(row);
                exact.add(!kind.equals("far"));
            }
            int m = rows.size();
            float[] x = new float[m * k];
            for (int i = 0; i < m; i++) {
                System.arraycopy(rows.get(i), 0, x, i * k, k);
            }
            Int8InputQuantization in = input(scheme, staticScale, staticZero);
            QuantLayout layout = QuantLayout.of(List.of(Int8Matrix.of(1, k, new byte[k], new Int8WeightScale.PerTensor(1f), in)));
            float[] xq = new float[x.length];
            Arrays.fill(xq, -7f);
            Int8InputTwin.run(x, m, layout, xq);
            double[] want = Int8Oracle.quantiseInput(x, m, k, scheme, staticScale, staticZero);
            for (int i = 0; i < m; i++) {
                for (int c = 0; c < k; c++) {
                    int at = i * k + c;
                    float w = (float) want[at];
                    float got = xq[at];
                    int row = i;
                    String what = scheme + " k=" + k + " row " + i + " col " + c + ": x " + x[at] + ", oracle " + want[at]
                            + ", twin " + got;
                    if (w != w) {
                        assertTrue(got != got, what);
                    } else if (exact.get(row)) {
                        assertEquals(w, got, 0f, what);
                    } else {
                        assertEquals(want[at], got, Math.abs(want[at]) * 0x1p-23, what);
                    }
                }
            }
          }
        }
    }

    record ProductCase(String kernel, int m, int n, int k, Int8Scheme scheme, boolean gated) {}

    static Stream<ProductCase> productCases() {
        int[][] shapes = {{1, 7, 129}, {3, 33, 96}, {9, 17, 31}, {8, 5, 300}, {17, 70, 64}, {1, 1, 1}, {40, 65, 130}, {2, 3, 7}};
        List<ProductCase> cases = new ArrayList<>();
        int i = 0;
        for (String kernel : new String[] {"gemv", "gemm"}) {
            for (Int8Scheme.WeightScale w : Int8Scheme.WeightScale.values()) {
                for (Int8Scheme.InputScale in : Int8Scheme.InputScale.values()) {
                    for (boolean symmetric : new boolean[] {true, false}) {
                        for (int j = 0; j < 2; j++) {
                            int[] s = shapes[i % shapes.length];
                            cases.add(new ProductCase(kernel, s[0], s[1], s[2], Int8Scheme.of(w, in, symmetric), i % 3 == 1));
                            i++;
                        }
                    }
                }
            }
        }
        return cases.stream();
    }

    /**
     * The GEMV and GEMM twins over int8 codes (boundary codes −128, 127 and 0 among random ones;
     * a zero weight scale; gate/up pairs) after the input twin, against the oracle's product of x
     * quantised as it quantises it, with a zero row and a constant row of x among random ones.
     */
    @ParameterizedTest(name = "{index}: {0}")
    @MethodSource("productCases")
    void gemvAndGemmMatchTheOracle(ProductCase c) {
        SplittableRandom rnd = new SplittableRandom(SEED ^ c.toString().hashCode());
        int k = c.k();
        int m = c.m();
        Int8Scheme scheme = c.scheme();
        float[] x = new float[m * k];
        float offset = scheme.symmetricInput() ? 0f : (float) rnd.nextDouble() * 3;
        for (int i = 0; i < x.length; i++) {
            double v = rnd.nextDouble() * 8 - 4 + offset;
            x[i] = (float) (rnd.nextInt(64) == 0 ? v * 30 : v);
        }
        if (m > 2) {
            Arrays.fill(x, 0, k, 0f);
            Arrays.fill(x, k, 2 * k, (float) (rnd.nextDouble() * 4 - 2));
        }
        float staticScale = 0f;
        int staticZero = 0;
        if (scheme.isStatic()) {
            float amax = 0f;
            for (float v : x) {
                amax = Math.max(amax, Math.abs(v));
            }
            staticScale = Math.max(amax, 1f) / 127f * 0.8f; // the largest inputs saturate
            staticZero = scheme.symmetricInput() ? 0 : rnd.nextInt(-40, 41);
        }
        Int8InputQuantization in = input(scheme, staticScale, staticZero);
        int blocks = c.gated() ? 2 : 1;
        List<WeightMatrix> ws = new ArrayList<>();
        double[] wd = new double[blocks * c.n() * k];
        for (int b = 0; b < blocks; b++) {
            Int8Matrix w = randomWeight(c.n(), k, scheme.weightScale(), in, rnd);
            ws.add(w);
            for (int r = 0; r < c.n(); r++) {
                for (int col = 0; col < k; col++) {
                    wd[(b * c.n() + r) * k + col] = w.code(r, col) * (double) w.weightScale().scale(r);
                }
            }
        }
        double[] xd = Int8Oracle.quantiseInput(x, m, k, scheme, staticScale, staticZero);
        QuantTwinsTest.check(c.kernel(), m, c.n(), k, ws, x, xd, wd, c.gated(), rnd, c.toString());
    }

    /** A row of x holding NaN or ±∞ gives NaN outputs in its own row, and only there, in both kernels. */
    @Test
    void aNonFiniteRowGivesNanOutputsInItsRowAlone() {
        SplittableRandom rnd = new SplittableRandom(SEED);
        int m = 12;
        int n = 9;
        int k = 70;
        for (Int8Scheme scheme : inputSchemes().toList()) {
            Int8InputQuantization in = input(scheme, 0.05f, scheme.symmetricInput() ? 0 : 3);
            Int8Matrix w = randomWeight(n, k, Int8Scheme.WeightScale.CHANNEL, in, rnd);
            QuantLayout layout = QuantLayout.of(List.of(w));
            TwinWeights decode = KernelWeight.ofPacked(layout, layout.codes(List.of(w)))::at;
            float[] x = QuantTwinsTest.uniform(m * k, rnd);
            x[3 * k + 5] = Float.NaN;
            x[7 * k + 69] = Float.POSITIVE_INFINITY;
            x[8 * k] = Float.NEGATIVE_INFINITY;
            float[] xq = new float[x.length];
            Int8InputTwin.run(x, m, layout, xq);
            for (int mm : new int[] {m, 8}) { // the GEMM, then the GEMV on the first 8 rows
                float[] y = new float[mm * n];
                Arrays.fill(y, 42f);
                if (mm > KernelGeometry.GEMV_MAX_ROWS) {
                    TiledGemmTwin.run(xq, mm, decode, null, y, n, k, KernelActivation.NONE, 0, 0);
                } else {
                    RowGemvTwin.run(xq, mm, decode, null, y, n, k, KernelActivation.NONE, 0, 0);
                }
                for (int i = 0; i < mm; i++) {
                    for (int j = 0; j < n; j++) {
                        float v = y[i * n + j];
                        boolean bad = i == 3 || i == 7 || i == 8;
                        assertEquals(bad, Float.isNaN(v), scheme + " rows " + mm + ": y[" + i + ", " + j + "] = " + v);
                    }
                }
            }
        }
    }

    /** The packed codes decode to code·scale for every row of stacked blocks, k not a multiple of 4, views of cut weights included. */
    @Test
    void stackedBlocksDecodeToTheirCodesTimesTheirScales() {
        SplittableRandom rnd = new SplittableRandom(SEED);
        Int8InputQuantization in = new Int8InputQuantization.DynamicPerTokenAsymmetric();
        for (int k : new int[] {1, 3, 7, 130}) {
            Int8Matrix a = randomWeight(5, k + 4, Int8Scheme.WeightScale.CHANNEL, in, rnd);
            Int8Matrix b = randomWeight(6, k, Int8Scheme.WeightScale.TENSOR, in, rnd).selectRows(new int[] {4, 0, 5});
            int[] cols = new int[k];
            for (int c = 0; c < k; c++) {
                cols[c] = c + 2;
            }
            List<Int8Matrix> blocks = List.of(a.selectColumns(cols), b, a.selectRows(new int[] {1, 2}).selectColumns(cols));
            QuantLayout layout = QuantLayout.of(blocks);
            KernelWeight w = KernelWeight.ofPacked(layout, layout.codes(blocks));
            int row0 = 0;
            for (Int8Matrix block : blocks) {
                for (int r = 0; r < block.rows(); r++) {
                    for (int c = 0; c < k; c++) {
                        float want = block.code(r, c) * block.weightScale().scale(r);
                        assertEquals(want, w.at(row0 + r, c), 0f, "k=" + k + " row " + (row0 + r) + " col " + c);
                    }
                }
                row0 += block.rows();
            }
        }
    }

    @Test
    void blocksWithDifferentInputQuantisationsAreRefusedByName() {
        Int8Matrix gate = Int8Matrix.of(2, 3, new byte[6], new Int8WeightScale.PerTensor(1f),
                new Int8InputQuantization.StaticAsymmetric(0.5f, 3));
        Int8Matrix up = Int8Matrix.of(2, 3, new byte[6], new Int8WeightScale.PerTensor(1f),
                new Int8InputQuantization.Static(0.25f));
        ConfigException e = assertThrows(ConfigException.class, () -> QuantLayout.of(List.of(gate, up)));
        assertTrue(e.getMessage().contains("input quantisation") && e.getMessage().contains("static, asymmetric")
                && e.getMessage().contains("input static"), e.getMessage());
    }

    static Int8InputQuantization input(Int8Scheme scheme, float staticScale, int staticZero) {
        if (scheme.isStatic()) {
            return scheme.symmetricInput() ? new Int8InputQuantization.Static(staticScale)
                    : new Int8InputQuantization.StaticAsymmetric(staticScale, staticZero);
        }
        return scheme.symmetricInput() ? new Int8InputQuantization.DynamicPerToken()
                : new Int8InputQuantization.DynamicPerTokenAsymmetric();
    }

    /** Random codes, about one in four −128, 127 or 0; scales per tensor or channel, a channel's sometimes 0. */
    static Int8Matrix randomWeight(int n, int k, Int8Scheme.WeightScale scale, Int8InputQuantization in, SplittableRandom rnd) {
        byte[] codes = new byte[n * k];
        for (int i = 0; i < codes.length; i++) {
            codes[i] = (byte) (rnd.nextInt(4) == 0 ? new int[] {-128, 127, 0}[rnd.nextInt(3)] : rnd.nextInt(-128, 128));
        }
        Int8WeightScale ws;
        if (scale == Int8Scheme.WeightScale.CHANNEL) {
            float[] s = new float[n];
            for (int r = 0; r < n; r++) {
                s[r] = rnd.nextInt(8) == 0 ? 0f : (float) Math.scalb(1 + rnd.nextDouble(), -10 - rnd.nextInt(5));
            }
            ws = new Int8WeightScale.PerChannel(s);
        } else {
            ws = new Int8WeightScale.PerTensor((float) Math.scalb(1 + rnd.nextDouble(), -10 - rnd.nextInt(5)));
        }
        return Int8Matrix.of(n, k, codes, ws, in);
    }
}

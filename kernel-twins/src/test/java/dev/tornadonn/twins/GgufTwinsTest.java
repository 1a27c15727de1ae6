package dev.tornadonn.twins;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.tornadonn.core.Activation;
import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.DType;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.io.GgmlType;
import dev.tornadonn.core.weights.GgufBlocks;
import dev.tornadonn.core.weights.GgufMatrix;
import dev.tornadonn.core.weights.WeightMatrix;
import dev.tornadonn.reference.Comparison;
import dev.tornadonn.reference.GgufOracle;
import dev.tornadonn.reference.Oracle;
import dev.tornadonn.reference.Tolerance;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The device kernels' GGUF decode ({@link KernelWeight#at} over {@link GgufCodes}) and the GEMV and
 * tiled GEMM twins over GGUF blocks, against the float64 oracle ({@link GgufOracle}: the blocks
 * dequantised element by element, then multiplied): every f16 scale pattern, every code, awkward
 * shapes (one block and odd block counts, rows padded to a word, n = 1, 7, 129), gate/up pairs,
 * bias on and off. Outputs start as NaN.
 */
class GgufTwinsTest {
    private static final long SEED = Long.getLong("tornadonn.seed", System.nanoTime());
    private static final List<GgmlType> TYPES = List.of(GgmlType.Q4_0, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q6_K);

    static {
        System.out.println("gguf twins seed " + SEED + " (rerun with -Dtornadonn.seed=" + SEED + ")");
    }

    /** The byte offsets of a block's f16 scales: d (and Q4_K's dmin). */
    private static int[] halfFields(GgmlType type) {
        return switch (type) {
            case Q4_0, Q8_0 -> new int[] {0};
            case Q4_K -> new int[] {0, 2};
            case Q6_K -> new int[] {208};
            default -> throw new IllegalArgumentException(type.toString());
        };
    }

    private static void putHalf(byte[] b, int at, int bits) {
        b[at] = (byte) bits;
        b[at + 1] = (byte) (bits >> 8);
    }

    /** Random bytes (every code, every 6-bit and int8 scale), finite f16 scales of either sign, up to {@code magnitude}. */
    static byte[] randomBlocks(GgmlType type, int rows, int cols, double magnitude, SplittableRandom rnd) {
        byte[] b = new byte[Math.toIntExact(rows * type.rowBytes(cols))];
        rnd.nextBytes(b);
        for (int at = 0; at < b.length; at += type.blockBytes()) {
            for (int f : halfFields(type)) {
                double v = magnitude * (0.05 + rnd.nextDouble()) * (rnd.nextBoolean() ? 1 : -1);
                putHalf(b, at + f, Float.floatToFloat16((float) v));
            }
        }
        return b;
    }

    static GgufMatrix matrix(GgmlType type, int rows, int cols, byte[] raw) {
        Tensor t = Tensor.allocate(DType.U8, Shape.of(rows, Math.toIntExact(type.rowBytes(cols))));
        MemorySegment.copy(MemorySegment.ofArray(raw), 0, t.data(), 0, raw.length);
        return new GgufMatrix(rows, cols, type, t);
    }

    /**
     * Every one of the 65,536 f16 patterns as a block's d (and, reversed, as Q4_K's dmin), infinities
     * and NaNs included, over random codes and blocks of all-0x00 and all-0xFF codes: each weight
     * is bit-for-bit the oracle's element-by-element value and the JVM backend's decoder's.
     */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q4_0", "Q8_0", "Q4_K", "Q6_K"})
    void decodesEveryScalePatternAsGgml(GgmlType type) {
        SplittableRandom rnd = new SplittableRandom(SEED ^ type.ordinal());
        int rows = 1 << 16;
        int cols = type.blockSize();
        byte[] raw = new byte[Math.toIntExact(rows * type.rowBytes(cols))];
        rnd.nextBytes(raw);
        int[] fields = halfFields(type);
        for (int r = 0; r < rows; r++) {
            int at = r * type.blockBytes();
            if (r % 97 == 1 || r % 97 == 2) { // every code at its extreme: nibbles 0 / 15, int8 0 / -1, q6 -32 / 31
                Arrays.fill(raw, at, at + type.blockBytes(), (byte) (r % 97 == 1 ? 0 : -1));
            }
            putHalf(raw, at + fields[0], r);
            if (fields.length > 1) {
                putHalf(raw, at + fields[1], Integer.reverse(r) >>> 16);
            }
        }
        GgufMatrix w = matrix(type, rows, cols, raw);
        GgufCodes layout = GgufCodes.of(List.of(w));
        KernelWeight kw = KernelWeight.ofGguf(layout, layout.codes(List.of(w)));
        float[] host = new float[cols];
        for (int r = 0; r < rows; r++) {
            byte[] row = Arrays.copyOfRange(raw, r * type.blockBytes(), (r + 1) * type.blockBytes());
            double[] want = GgufOracle.decode(type, row, 1, cols);
            GgufBlocks.decode(type, row, 0, cols, host, 0);
            for (int c = 0; c < cols; c++) {
                int got = Float.floatToIntBits(kw.at(r, c));
                if (got != Float.floatToIntBits((float) want[c]) || got != Float.floatToIntBits(host[c])) {
                    fail(type + " d=0x" + Integer.toHexString(r) + " element " + c + ": " + Float.intBitsToFloat(got)
                            + ", oracle " + want[c] + ", GgufBlocks " + host[c]);
                }
            }
        }
    }

    /** Rows of several blocks, padded to words or not, stacked from two matrices: each element where the oracle puts it. */
    @Test
    void stackedRowsOfManyBlocksDecodeInPlace() {
        SplittableRandom rnd = new SplittableRandom(SEED);
        for (GgmlType type : TYPES) {
            for (int blocks : new int[] {1, 2, 3, 5}) {
                int cols = blocks * type.blockSize();
                byte[] a = randomBlocks(type, 3, cols, 1.0, rnd);
                byte[] b = randomBlocks(type, 4, cols, 1.0, rnd);
                List<WeightMatrix> ws = List.of(matrix(type, 3, cols, a), matrix(type, 4, cols, b));
                GgufCodes layout = GgufCodes.of(ws);
                assertEquals(7, layout.rows());
                assertEquals((type.rowBytes(cols) + 3) / 4, layout.rowWords());
                KernelWeight kw = KernelWeight.ofGguf(layout, layout.codes(ws));
                double[] wa = GgufOracle.decode(type, a, 3, cols);
                double[] wb = GgufOracle.decode(type, b, 4, cols);
                for (int r = 0; r < 7; r++) {
                    for (int c = 0; c < cols; c++) {
                        double want = r < 3 ? wa[r * cols + c] : wb[(r - 3) * cols + c];
                        assertEquals(want, kw.at(r, c), 0.0, type + " " + blocks + " blocks, (" + r + ", " + c + ")");
                    }
                }
            }
        }
    }

    @Test
    void blocksOfDifferentTypesAreRefusedByName() {
        SplittableRandom rnd = new SplittableRandom(SEED);
        var q4 = matrix(GgmlType.Q4_K, 2, 256, randomBlocks(GgmlType.Q4_K, 2, 256, 1, rnd));
        var q6 = matrix(GgmlType.Q6_K, 2, 256, randomBlocks(GgmlType.Q6_K, 2, 256, 1, rnd));
        var e = assertThrows(ConfigException.class, () -> GgufCodes.of(List.of(q4, q6)));
        assertTrue(e.getMessage().contains("gguf q4_k") && e.getMessage().contains("gguf q6_k"), e.getMessage());
    }

    record Case(String kernel, GgmlType type, int m, int n, int k, boolean gated, boolean bias) {}

    static Stream<Case> products() {
        // {m, n, blocks of k}: one block, odd counts (rows padded to a word for Q4_0, Q8_0, Q6_K), n 1, 7, 129
        int[][] shapes = {{1, 7, 1}, {3, 129, 3}, {9, 1, 2}, {8, 33, 5}, {17, 70, 1}, {40, 65, 3}, {1, 129, 2}, {64, 7, 1}};
        List<Case> cases = new ArrayList<>();
        int i = 0;
        for (String kernel : new String[] {"gemv", "gemm"}) {
            for (GgmlType type : TYPES) {
                for (int s = 0; s < 3; s++) {
                    int[] sh = shapes[i % shapes.length];
                    int blocks = type.blockSize() == 32 ? 3 * sh[2] + 2 : sh[2];
                    cases.add(new Case(kernel, type, sh[0], sh[1], blocks * type.blockSize(), i % 3 == 1, i % 2 == 0));
                    i++;
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{index}: {0}")
    @MethodSource("products")
    void productsMatchTheOracle(Case c) {
        SplittableRandom rnd = new SplittableRandom(SEED ^ c.toString().hashCode());
        int n = c.n();
        int k = c.k();
        int m = c.m();
        int blocks = c.gated() ? 2 : 1;
        int rows = blocks * n;
        List<WeightMatrix> ws = new ArrayList<>();
        double[] wd = new double[rows * k];
        for (int b = 0; b < blocks; b++) {
            byte[] raw = randomBlocks(c.type(), n, k, 0.05, rnd);
            ws.add(matrix(c.type(), n, k, raw));
            System.arraycopy(GgufOracle.decode(c.type(), raw, n, k), 0, wd, b * n * k, n * k);
        }
        float[] x = new float[m * k];
        double[] xd = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (rnd.nextDouble() * 2 - 1);
            xd[i] = x[i];
        }
        float[] bias = null;
        double[] bd = null;
        if (c.bias()) {
            bias = new float[rows];
            bd = new double[rows];
            for (int i = 0; i < rows; i++) {
                bias[i] = (float) (rnd.nextDouble() * 2 - 1);
                bd[i] = bias[i];
            }
        }
        GgufCodes layout = GgufCodes.of(ws);
        TwinWeights w = KernelWeight.ofGguf(layout, layout.codes(ws))::at;
        float[] y = new float[m * n];
        Arrays.fill(y, Float.NaN);
        int act = c.gated() ? KernelActivation.SILU : KernelActivation.NONE;
        if (c.kernel().equals("gemm")) {
            TiledGemmTwin.run(x, m, w, bias, y, n, k, act, c.gated() ? 1 : 0, c.bias() ? 1 : 0);
        } else {
            RowGemvTwin.run(x, m, w, bias, y, n, k, act, c.gated() ? 1 : 0, c.bias() ? 1 : 0);
        }
        double[] all = Oracle.linear(xd, m, k, wd, rows, bd);
        double[] allScale = Oracle.linear(Oracle.abs(xd), m, k, Oracle.abs(wd), rows, bd == null ? null : Oracle.abs(bd));
        double[] ref = all;
        double[] scale = allScale;
        if (c.gated()) {
            ref = new double[m * n];
            scale = new double[m * n];
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    ref[i * n + j] = Oracle.activate(Activation.SILU, all[i * rows + j]) * all[i * rows + n + j];
                    scale[i * n + j] = (1.13 * allScale[i * rows + j] + 1) * allScale[i * rows + n + j];
                }
            }
        }
        Comparison cmp = Comparison.of(y, ref, scale);
        assertTrue(cmp.within(Tolerance.F32_ACCUMULATION), () -> c + ": " + cmp);
    }
}

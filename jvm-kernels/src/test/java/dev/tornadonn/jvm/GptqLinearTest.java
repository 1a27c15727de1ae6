package dev.tornadonn.jvm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.io.TensorSource;
import dev.tornadonn.core.weights.GroupQuantizedMatrix;
import dev.tornadonn.layers.quant.GptqConfig;
import dev.tornadonn.layers.quant.GptqFormat;
import dev.tornadonn.layers.Linear;
import dev.tornadonn.layers.quant.GptqLinearConfig;
import dev.tornadonn.layers.quant.GptqPacker;
import dev.tornadonn.reference.RandomTensors;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class GptqLinearTest {
    private static final long SEED = System.nanoTime();

    static {
        System.out.println("GptqLinearTest seed " + SEED);
    }

    private static float[] weights(int n, int k, SplittableRandom rnd) {
        return RandomTensors.uniform(DType.F32, Shape.of(n, k), rnd).toFloatArray();
    }

    private static GptqLinearConfig config(int k, int n, GptqConfig q) {
        return new GptqLinearConfig(k, n, q, DType.F16, DeviceRef.cpu(0), false, "p");
    }

    @Test
    void v1AndV2CheckpointsOfOneModelGiveTheSameOutput() {
        SplittableRandom rnd = new SplittableRandom(SEED);
        for (int bits : new int[] {2, 3, 4, 8}) {
            GptqLinearConfig v1 = config(256, 96, new GptqConfig(bits, 64, false, false, GptqFormat.GPTQ));
            GptqLinearConfig v2 = config(256, 96, new GptqConfig(bits, 64, false, false, GptqFormat.GPTQ_V2));
            Map<String, Tensor> ckpt1 = new LinkedHashMap<>(GptqPacker.pack(weights(96, 256, rnd), v1, null));
            Map<String, Tensor> ckpt2 = new LinkedHashMap<>(ckpt1);
            ckpt2.put("p.qzeros", GptqPacker.qzerosV1ToV2(ckpt1.get("p.qzeros"), bits, 96));
            Tensor x = RandomTensors.uniform(DType.F32, Shape.of(3, 256), rnd);
            float[] y1 = Linear.load(v1, TensorSource.of(ckpt1)).forward(x).toFloatArray();
            float[] y2 = Linear.load(v2, TensorSource.of(ckpt2)).forward(x).toFloatArray();
            assertArrayEquals(y1, y2, bits + " bits");
        }
    }

    @Test
    void actOrderAndPlainCheckpointsOfTheSameWeightsGiveTheSameOutput() {
        SplittableRandom rnd = new SplittableRandom(SEED + 1);
        int k = 256, n = 64, g = 32;
        GptqLinearConfig actOrder = config(k, n, new GptqConfig(4, g, true, true, GptqFormat.GPTQ));
        GptqLinearConfig plain = config(k, n, new GptqConfig(4, g, false, true, GptqFormat.GPTQ));
        float[] w = weights(n, k, rnd);
        // An act-order assignment: channel perm[p] is the p-th channel quantised, in group p / g.
        int[] perm = java.util.stream.IntStream.range(0, k).boxed()
                .sorted((a, b) -> Long.compare(mix(SEED, a), mix(SEED, b))).mapToInt(Integer::intValue).toArray();
        int[] groupOf = new int[k];
        for (int p = 0; p < k; p++) {
            groupOf[perm[p]] = p / g;
        }
        Map<String, Tensor> a = GptqPacker.pack(w, actOrder, groupOf);
        // The same weights with channels physically in quantisation order: groups become contiguous.
        float[] wPermuted = new float[n * k];
        for (int row = 0; row < n; row++) {
            for (int p = 0; p < k; p++) {
                wPermuted[row * k + p] = w[row * k + perm[p]];
            }
        }
        Map<String, Tensor> b = GptqPacker.pack(wPermuted, plain, null);
        Tensor x = RandomTensors.uniform(DType.F32, Shape.of(5, k), rnd);
        float[] xs = x.toFloatArray();
        float[] xPermuted = new float[xs.length];
        for (int i = 0; i < 5; i++) {
            for (int p = 0; p < k; p++) {
                xPermuted[i * k + p] = xs[i * k + perm[p]];
            }
        }
        float[] ya = Linear.load(actOrder, TensorSource.of(a)).forward(x).toFloatArray();
        float[] yb = Linear.load(plain, TensorSource.of(b)).forward(Tensor.of(xPermuted, 5, k)).toFloatArray();
        for (int i = 0; i < ya.length; i++) {
            assertEquals(yb[i], ya[i], 1e-5f * Math.max(1, Math.abs(yb[i])), "element " + i + " (seed " + SEED + ")");
        }
    }

    private static long mix(long seed, int i) {
        long z = seed + 0x9E3779B97F4A7C15L * (i + 1);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        return z ^ (z >>> 27);
    }

    @Test
    void int4GemvStreamsLessThanAThirdOfBf16() {
        SplittableRandom rnd = new SplittableRandom(SEED + 2);
        int k = 4096, n = 256;
        GptqLinearConfig c = config(k, n, new GptqConfig(4, 128, false, true, GptqFormat.GPTQ));
        Linear layer = Linear.load(c, TensorSource.of(GptqPacker.pack(weights(n, k, rnd), c, null)));
        long bf16Bytes = 2L * n * k;
        // codes: half a byte per weight; scale and zero: 8 bytes per 128 weights
        long codesScalesZeros = n * (k / 2L + 8L * (k / 128));
        long tables = 4L * k + 4L * (k / 16); // the column order and each 16-column block's group
        assertEquals(codesScalesZeros + tables, layer.prepared().bytes());
        assertTrue(layer.prepared().bytes() * 3 < bf16Bytes, layer.prepared().bytes() + " vs " + bf16Bytes);
    }

    @Test
    void scalarAndVectorDecodingAgreeBitForBit() {
        SplittableRandom rnd = new SplittableRandom(SEED + 3);
        for (int bits : new int[] {2, 3, 4, 8}) {
            int rows = 5, cols = 300, groups = 3;
            GroupQuantizedMatrix m = randomMatrix(rnd, bits, rows, cols, groups);
            int[] codes = new int[rows * cols];
            for (int i = 0; i < codes.length; i++) {
                codes[i] = m.code(i / cols, i % cols);
            }
            float[] scales = m.scales();
            float[] zeros = m.zeros();
            int[] groupOf = m.groupOf();
            GroupQuantLayout layout = GroupQuantLayout.of(m);
            float[] scalar = new float[layout.paddedCols()];
            float[] vector = new float[layout.paddedCols()];
            for (int r = 0; r < rows; r++) {
                new GroupQuantKernels.Scalar().decodeRow(layout, r, scalar);
                KernelSelection.vectorGroupQuant().decodeRow(layout, r, vector);
                assertArrayEquals(scalar, vector, bits + " bits, row " + r);
                for (int pos = 0; pos < layout.paddedCols(); pos++) {
                    int col = layout.columnOfPosition()[pos];
                    if (col >= 0) {
                        int g = groupOf[col];
                        float expected = (codes[r * cols + col] - zeros[r * groups + g]) * scales[r * groups + g];
                        assertEquals(expected, scalar[pos], bits + " bits, row " + r + ", column " + col);
                    }
                }
            }
            assertTrue(Arrays.stream(layout.columnOfPosition()).filter(c -> c >= 0).count() == cols);
        }
    }

    @Test
    void theOnePassGemvMatchesDecodingTheRow() {
        SplittableRandom rnd = new SplittableRandom(SEED + 4);
        for (int bits : new int[] {2, 3, 4, 8}) {
            checkOnePassGemv(rnd, bits, GroupQuantLayout.of(randomMatrix(rnd, bits, 4, 333, 5)));
        }
    }

    /** Contiguous groups of every size, so whole chunks fall in one group (the unrolled path), over awkward K. */
    @Test
    void theOnePassGemvMatchesDecodingTheRowForContiguousGroups() {
        SplittableRandom rnd = new SplittableRandom(SEED + 5);
        for (int bits : new int[] {2, 3, 4, 8}) {
            for (int cols : new int[] {1, 7, 129, 4097}) {
                for (int groupSize : new int[] {16, 32, 64, 128, 256, cols}) {
                    int groups = (cols + groupSize - 1) / groupSize;
                    int[] groupOf = new int[cols];
                    for (int i = 0; i < cols; i++) {
                        groupOf[i] = i / groupSize;
                    }
                    checkOnePassGemv(rnd, bits, GroupQuantLayout.of(randomMatrix(rnd, bits, 3, cols, groups, groupOf)));
                }
            }
        }
    }

    /**
     * The multi-row GEMV over row counts that are not a multiple of its block, K of one, two and
     * 33 chunks, every bit width, and groups that fill whole chunks (plain and act-order shuffled,
     * the four-row path) or not (per-row fallback), each row against the decoded row in float64.
     */
    @Test
    void theMultiRowGemvMatchesDecodingTheRow() {
        SplittableRandom rnd = new SplittableRandom(SEED + 6);
        for (int bits : new int[] {2, 3, 4, 8}) {
            for (int rows : new int[] {1, 3, 4, 5, 7, 8}) {
                for (int cols : new int[] {128, 256, 4096 + 128}) {
                    for (int groupSize : new int[] {64, 128, 256}) {
                        int groups = (cols + groupSize - 1) / groupSize;
                        int[] groupOf = new int[cols];
                        for (int i = 0; i < cols; i++) {
                            groupOf[i] = i / groupSize;
                        }
                        GroupQuantLayout plain = GroupQuantLayout.of(randomMatrix(rnd, bits, rows, cols, groups, groupOf));
                        assertEquals(groupSize >= 128, plain.chunksInOneGroup());
                        checkMultiRowGemv(rnd, bits, plain);
                        for (int i = cols - 1; i > 0; i--) { // act-order: the same groups, columns shuffled
                            int j = rnd.nextInt(i + 1);
                            int t = groupOf[i];
                            groupOf[i] = groupOf[j];
                            groupOf[j] = t;
                        }
                        GroupQuantLayout shuffled = GroupQuantLayout.of(randomMatrix(rnd, bits, rows, cols, groups, groupOf));
                        assertEquals(groupSize >= 128, shuffled.chunksInOneGroup());
                        checkMultiRowGemv(rnd, bits, shuffled);
                    }
                }
            }
            checkMultiRowGemv(rnd, bits, GroupQuantLayout.of(randomMatrix(rnd, bits, 6, 333, 5)));
        }
    }

    /**
     * The packed GEMM (many rows of x) over every bit width, K of one chunk, of several K blocks
     * with a partial last one, and uneven act-order groups, N not a multiple of its slivers, M not
     * a multiple of its x slivers: each output against the scalar decode in float64, y poisoned
     * with NaN first. Below its row count, and in the scalar kernels, it is not taken.
     */
    @Test
    void thePackedGemmMatchesDecodingTheRows() {
        SplittableRandom rnd = new SplittableRandom(SEED + 8);
        GroupQuantKernels vector = KernelSelection.vectorGroupQuant();
        MatmulKernels packing = new VectorKernels();
        int m = VectorGemm.PACKED_MIN_M + 10;
        assertTrue(packing.packs(m));
        assertTrue(!packing.packs(VectorGemm.PACKED_MIN_M - 1));
        assertTrue(!new ScalarKernels().packs(m));
        for (int bits : new int[] {2, 3, 4, 8}) {
            for (int[] shape : new int[][] {{50, 100, 2}, {97, 1300, 11}, {1, 2 * VectorGemm.KC + 128, 3}}) {
                int n = shape[0], k = shape[1];
                GroupQuantLayout layout = GroupQuantLayout.of(randomMatrix(rnd, bits, n, k, shape[2]));
                int kp = layout.paddedCols();
                float[] xp = new float[m * kp];
                float[] x = new float[m * k];
                for (int i = 0; i < m; i++) {
                    for (int pos = 0; pos < kp; pos++) {
                        int col = layout.columnOfPosition()[pos];
                        if (col >= 0) {
                            xp[i * kp + pos] = (float) rnd.nextDouble(-1, 1);
                            x[i * k + col] = xp[i * kp + pos];
                        }
                    }
                }
                float[] bias = new float[n];
                for (int j = 0; j < n; j++) {
                    bias[j] = (float) rnd.nextGaussian();
                }
                float[] y = new float[m * n];
                Arrays.fill(y, Float.NaN);
                GroupQuantLinear.run(packing, vector, x, m, layout, bias, y);
                float[] row = new float[kp];
                for (int j = 0; j < n; j++) {
                    new GroupQuantKernels.Scalar().decodeRow(layout, j, row);
                    for (int i = 0; i < m; i++) {
                        double expected = bias[j];
                        double magnitude = Math.abs(bias[j]);
                        for (int pos = 0; pos < kp; pos++) {
                            expected += (double) row[pos] * xp[i * kp + pos];
                            magnitude += Math.abs((double) row[pos] * xp[i * kp + pos]);
                        }
                        assertEquals(expected, y[i * n + j], 1e-5 * magnitude, bits + " bits, " + n + " x " + k
                                + ", y[" + i + ", " + j + "] (seed " + SEED + ")");
                    }
                }
            }
        }
    }

    @Test
    void wholeChunkGroupsAreRecognised() {
        SplittableRandom rnd = new SplittableRandom(SEED + 7);
        int[] contiguous128 = new int[512];
        int[] contiguous64 = new int[512];
        for (int i = 0; i < 512; i++) {
            contiguous128[i] = i / 128;
            contiguous64[i] = i / 64;
        }
        assertTrue(GroupQuantLayout.of(randomMatrix(rnd, 4, 2, 512, 4, contiguous128)).chunksInOneGroup());
        assertTrue(!GroupQuantLayout.of(randomMatrix(rnd, 4, 2, 512, 8, contiguous64)).chunksInOneGroup());
    }

    /** {@code rowsTimesX} in blocks of up to {@link GroupQuantKernels#ROWS} rows, against each decoded row in float64. */
    private static void checkMultiRowGemv(SplittableRandom rnd, int bits, GroupQuantLayout layout) {
        GemvCase c = GemvCase.of(rnd, bits, layout);
        int rows = layout.rows();
        for (GroupQuantKernels k : List.of(new GroupQuantKernels.Scalar(), KernelSelection.vectorGroupQuant())) {
            float[] xa = k.arrangeInput(layout, c.xp());
            float[] out = new float[GroupQuantKernels.ROWS];
            for (int n = 0; n < rows; n += GroupQuantKernels.ROWS) {
                int block = Math.min(GroupQuantKernels.ROWS, rows - n);
                k.rowsTimesX(layout, n, block, c.xp(), xa, c.xsum(), out);
                for (int r = 0; r < block; r++) {
                    assertEquals(c.expected()[n + r], out[r], 1e-5 * c.magnitude()[n + r], k.getClass().getSimpleName()
                            + ", " + bits + " bits, row " + (n + r) + " of " + rows + ", k " + layout.cols() + ", groups "
                            + layout.groups() + ", whole-chunk groups " + layout.chunksInOneGroup());
                }
            }
        }
    }

    /** Every row's one-pass product against the decoded row's, in float64. */
    private static void checkOnePassGemv(SplittableRandom rnd, int bits, GroupQuantLayout layout) {
        GemvCase c = GemvCase.of(rnd, bits, layout);
        for (int r = 0; r < layout.rows(); r++) {
            for (GroupQuantKernels k : List.of(new GroupQuantKernels.Scalar(), KernelSelection.vectorGroupQuant())) {
                float got = k.fusedDot(layout, r, c.xp(), 0, c.xsum());
                assertEquals(c.expected()[r], got, 1e-5 * c.magnitude()[r], k.getClass().getSimpleName() + ", " + bits
                        + " bits, row " + r + ", k " + layout.cols() + ", groups " + layout.groups());
            }
        }
    }

    /**
     * A random x in the layout's column order (zero in its padding), its per-group sums, and each
     * row's product with it from the scalar decode in float64, with the error budget that product allows.
     */
    private record GemvCase(float[] xp, float[] xsum, double[] expected, double[] magnitude) {
        static GemvCase of(SplittableRandom rnd, int bits, GroupQuantLayout layout) {
            float[] xp = new float[layout.paddedCols()];
            float[] xsum = new float[layout.groups()];
            for (int pos = 0; pos < xp.length; pos++) {
                if (layout.columnOfPosition()[pos] >= 0) {
                    xp[pos] = (float) rnd.nextDouble(-1, 1);
                    xsum[layout.blockGroup()[pos / GroupQuantLayout.BLOCK]] += xp[pos];
                }
            }
            float[] row = new float[layout.paddedCols()];
            double[] expected = new double[layout.rows()];
            double[] magnitude = new double[layout.rows()];
            for (int r = 0; r < layout.rows(); r++) {
                new GroupQuantKernels.Scalar().decodeRow(layout, r, row);
                for (int pos = 0; pos < row.length; pos++) {
                    expected[r] += (double) row[pos] * xp[pos];
                    magnitude[r] += Math.abs((double) row[pos] * xp[pos]) + Math.abs(xp[pos]) * (1 << bits) * 0.1;
                }
            }
            return new GemvCase(xp, xsum, expected, magnitude);
        }
    }

    /** Random codes, scales and zero points, with uneven, non-contiguous groups: the layout pads each. */
    private static GroupQuantizedMatrix randomMatrix(SplittableRandom rnd, int bits, int rows, int cols, int groups) {
        int[] groupOf = new int[cols];
        for (int i = 0; i < cols; i++) {
            groupOf[i] = rnd.nextInt(groups);
        }
        return randomMatrix(rnd, bits, rows, cols, groups, groupOf);
    }

    private static GroupQuantizedMatrix randomMatrix(SplittableRandom rnd, int bits, int rows, int cols, int groups, int[] groupOf) {
        byte[] codes = new byte[rows * cols];
        for (int i = 0; i < codes.length; i++) {
            codes[i] = (byte) rnd.nextInt(1 << bits);
        }
        float[] scales = new float[rows * groups];
        float[] zeros = new float[rows * groups];
        for (int i = 0; i < scales.length; i++) {
            scales[i] = (float) rnd.nextDouble(0.001, 0.1);
            zeros[i] = rnd.nextInt(1 << bits);
        }
        return GroupQuantizedMatrix.pack(rows, cols, bits, groups, codes, scales, zeros, groupOf);
    }
}

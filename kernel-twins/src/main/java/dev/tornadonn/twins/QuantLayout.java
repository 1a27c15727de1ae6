package dev.tornadonn.twins;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.numeric.Float8Format;
import dev.tornadonn.core.weights.Fp8InputQuantization;
import dev.tornadonn.core.weights.Fp8Matrix;
import dev.tornadonn.core.weights.Fp8WeightScale;
import dev.tornadonn.core.weights.GroupQuantizedMatrix;
import dev.tornadonn.core.weights.Int8InputQuantization;
import dev.tornadonn.core.weights.Int8Matrix;
import dev.tornadonn.core.weights.WeightMatrix;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;

/**
 * A quantised weight as the device kernels read it, GPTQ, fp8 or int8, built from row blocks
 * stacked along the outputs (an MLP's gate and up). The codes stay packed: row n's codes are one
 * little-endian bit stream of {@code bits}-bit codes along k in 32-bit words
 * {@code codes[n·wordsPerRow ..]} (GPTQ's own packing, its qweight transposed so that a row's words
 * are adjacent; fp8 and int8 codes four to a word). Weight {@code (n, k)} is
 * {@code value(format, q, table[q], scales[n·groups + g], zeros[n·groups + g])} with
 * {@code g = groupMap[groupMap[n] + k]}: for GPTQ the checkpoint's groups (act-order included, so
 * neither x nor the codes are permuted), for fp8 the column's block of weight scales (one block
 * spanning the row for per-tensor and per-row scales, whose scales are repeated per row), for
 * int8 the row's scale (per tensor or per channel, one per row).
 * {@code groupMap} starts with each row's offset of its map, then holds one map of {@code cols}
 * entries per distinct map among the blocks (one array, since a kernel takes at most 20 parameters).
 *
 * <p>fp8 and int8 inputs are quantised on the device before the product ({@code inputMode}, one
 * of {@code QuantDecode.INPUT_*}, with its block of {@code inputBlock} columns, {@code upperBound},
 * {@code staticScale} and, for static asymmetric int8 inputs, {@code staticZero}), to
 * {@code inputFormat}: e4m3fn for dynamic fp8 inputs whatever the weights' format, as vLLM and MAX
 * quantise activations; int8 for int8 weights. {@code INPUT_NONE} (weight-only fp8) leaves x as
 * it is and runs no input kernel.
 */
public record QuantLayout(int format, int bits, int rows, int cols, int groups, int[] groupMap, float[] scales, float[] zeros, int inputMode, int inputBlock, float upperBound,
                          float staticScale, int staticZero, int inputFormat) {
    private static final ValueLayout.OfInt LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Input segments per row of x: the input scale's blocks (1 unless blocks). */
    public int inputSegments() {
        return (cols + inputBlock - 1) / inputBlock;
    }

    public boolean fp8() {
        return WeightFormat.isFp8(format);
    }

    public boolean int8() {
        return format == QuantDecode.INT8;
    }

    /** Whether x is quantised on the device before the product: fp8 and int8 layers but weight-only fp8 (GPTQ's x is used as it is). */
    public boolean quantisesInput() {
        return (fp8() || int8()) && inputMode != QuantDecode.INPUT_NONE;
    }

    public int wordsPerRow() {
        return QuantDecode.wordsPerRow(cols, bits);
    }

    public long codeInts() {
        return (long) rows * wordsPerRow();
    }

    /** The device bytes of the weight: codes, scales, zeros and the group map. */
    public long bytes() {
        return 4L * codeInts() + 4L * scales.length + 4L * zeros.length + 4L * groupMap.length;
    }

    /** The layout of {@code blocks}, all {@link GroupQuantizedMatrix}, all {@link Fp8Matrix} or all {@link Int8Matrix}; codes come from {@link #writeCodes}. */
    public static QuantLayout of(List<? extends WeightMatrix> blocks) {
        int rows = 0;
        for (WeightMatrix b : blocks) {
            rows = Math.addExact(rows, b.rows());
        }
        int cols = blocks.get(0).cols();
        return switch (blocks.get(0)) {
            case GroupQuantizedMatrix first -> gptq(blocks, first, rows, cols);
            case Fp8Matrix first -> fp8(blocks, first, rows, cols);
            case Int8Matrix first -> int8(blocks, first, rows, cols);
            default -> throw new ConfigException("not a quantised weight: " + blocks.get(0).kind());
        };
    }

    private static QuantLayout gptq(List<? extends WeightMatrix> blocks, GroupQuantizedMatrix first, int rows, int cols) {
        int groups = 0;
        List<int[]> maps = new java.util.ArrayList<>();
        int[] base = new int[rows];
        int row0 = 0;
        for (WeightMatrix w : blocks) {
            GroupQuantizedMatrix b = (GroupQuantizedMatrix) w;
            if (b.bits() != first.bits()) {
                throw new ConfigException("GPTQ blocks stacked into one weight must share their bits: "
                        + first.bits() + " and " + b.bits());
            }
            groups = Math.max(groups, b.groups());
            int map = -1;
            for (int i = 0; i < maps.size() && map < 0; i++) {
                if (Arrays.equals(maps.get(i), b.groupOf())) {
                    map = i;
                }
            }
            if (map < 0) {
                map = maps.size();
                maps.add(b.groupOf());
            }
            Arrays.fill(base, row0, row0 + b.rows(), map * cols);
            row0 += b.rows();
        }
        float[] scales = new float[Math.multiplyExact(rows, groups)];
        float[] zeros = new float[scales.length];
        row0 = 0;
        for (WeightMatrix w : blocks) {
            GroupQuantizedMatrix b = (GroupQuantizedMatrix) w;
            for (int n = 0; n < b.rows(); n++) {
                System.arraycopy(b.scales(), n * b.groups(), scales, (row0 + n) * groups, b.groups());
                System.arraycopy(b.zeros(), n * b.groups(), zeros, (row0 + n) * groups, b.groups());
            }
            row0 += b.rows();
        }
        int[] groupMap = new int[Math.addExact(rows, Math.multiplyExact(maps.size(), cols))];
        for (int n = 0; n < rows; n++) {
            groupMap[n] = rows + base[n];
        }
        for (int i = 0; i < maps.size(); i++) {
            System.arraycopy(maps.get(i), 0, groupMap, rows + i * cols, cols);
        }
        return new QuantLayout(QuantDecode.GPTQ, first.bits(), rows, cols, groups, groupMap, scales, zeros,
                QuantDecode.INPUT_STATIC, cols, 0f, 0f, 0, QuantDecode.GPTQ);
    }

    private static QuantLayout fp8(List<? extends WeightMatrix> blocks, Fp8Matrix first, int rows, int cols) {
        // One k-block size that every block's scales are constant over: the gcd of their k extents.
        int bk = cols;
        for (WeightMatrix w : blocks) {
            Fp8Matrix b = (Fp8Matrix) w;
            if (b.format() != first.format() || !b.input().equals(first.input())) {
                throw new ConfigException("fp8 blocks stacked into one weight must share their format and input "
                        + "quantisation: " + first.describe() + " and " + b.describe());
            }
            int extent = b.weightScale().blockCols() > 0 ? Math.min(cols, b.weightScale().blockCols()) : cols;
            bk = gcd(bk, extent);
        }
        int groups = (cols + bk - 1) / bk;
        int[] groupMap = new int[Math.addExact(rows, cols)];
        java.util.Arrays.fill(groupMap, 0, rows, rows); // every row shares the one map
        for (int k = 0; k < cols; k++) {
            groupMap[rows + k] = k / bk;
        }
        float[] scales = new float[Math.multiplyExact(rows, groups)];
        int row0 = 0;
        for (WeightMatrix w : blocks) {
            Fp8Matrix b = (Fp8Matrix) w;
            Fp8WeightScale ws = b.weightScale();
            for (int n = 0; n < b.rows(); n++) {
                for (int g = 0; g < groups; g++) {
                    scales[(row0 + n) * groups + g] = ws.scale(n, g * bk, cols);
                }
            }
            row0 += b.rows();
        }
        Fp8InputQuantization in = first.input();
        int mode = switch (in) {
            case Fp8InputQuantization.Static s -> QuantDecode.INPUT_STATIC;
            case Fp8InputQuantization.DynamicPerTensor t -> QuantDecode.INPUT_TENSOR;
            case Fp8InputQuantization.DynamicPerToken t -> QuantDecode.INPUT_TOKEN;
            case Fp8InputQuantization.DynamicBlock b -> QuantDecode.INPUT_BLOCK;
            case Fp8InputQuantization.WeightOnly w -> QuantDecode.INPUT_NONE;
        };
        int inputBlock = in instanceof Fp8InputQuantization.DynamicBlock b ? Math.min(cols, b.blockCols()) : cols;
        float ub = switch (in) {
            case Fp8InputQuantization.DynamicPerTensor t -> t.upperBound();
            case Fp8InputQuantization.DynamicPerToken t -> t.upperBound();
            case Fp8InputQuantization.DynamicBlock b -> b.upperBound();
            case Fp8InputQuantization.Static s -> Float.POSITIVE_INFINITY;
            case Fp8InputQuantization.WeightOnly w -> Float.POSITIVE_INFINITY;
        };
        float staticScale = in instanceof Fp8InputQuantization.Static s ? s.scale() : 0f;
        int format = first.format() == Float8Format.E4M3FN ? QuantDecode.E4M3FN : QuantDecode.E5M2;
        // A weight-only layer rounds x to nothing; its inputFormat is never read.
        int inputFormat = in instanceof Fp8InputQuantization.Quantised q && q.format() == Float8Format.E5M2
                ? QuantDecode.E5M2 : QuantDecode.E4M3FN;
        return new QuantLayout(format, 8, rows, cols, groups, groupMap, scales, new float[1], mode, inputBlock, ub, staticScale, 0,
                inputFormat);
    }

    /**
     * int8 blocks: one scale per row (a per-tensor scale repeated), one group map of zeros, and the
     * blocks' one input quantisation, which x gets on the device before the product; blocks with
     * different ones (an MLP's gate and up with their own static scales) cannot share x's codes.
     */
    private static QuantLayout int8(List<? extends WeightMatrix> blocks, Int8Matrix first, int rows, int cols) {
        float[] scales = new float[rows];
        int row0 = 0;
        for (WeightMatrix w : blocks) {
            Int8Matrix b = (Int8Matrix) w;
            if (!b.input().equals(first.input())) {
                throw new ConfigException("int8 blocks stacked into one device weight must share their input quantisation "
                        + "(x is quantised once for all of them): " + first.describe() + " and " + b.describe());
            }
            for (int n = 0; n < b.rows(); n++) {
                scales[row0 + n] = b.weightScale().scale(n);
            }
            row0 += b.rows();
        }
        int[] groupMap = new int[Math.addExact(rows, cols)];
        Arrays.fill(groupMap, 0, rows, rows); // every row shares the one map, all zeros
        Int8InputQuantization in = first.input();
        int mode = switch (in) {
            case Int8InputQuantization.Static s -> QuantDecode.INPUT_STATIC;
            case Int8InputQuantization.StaticAsymmetric s -> QuantDecode.INPUT_STATIC_ASYMMETRIC;
            case Int8InputQuantization.DynamicPerToken t -> QuantDecode.INPUT_TOKEN;
            case Int8InputQuantization.DynamicPerTokenAsymmetric t -> QuantDecode.INPUT_TOKEN_ASYMMETRIC;
        };
        float staticScale = switch (in) {
            case Int8InputQuantization.Static s -> s.scale();
            case Int8InputQuantization.StaticAsymmetric s -> s.scale();
            default -> 0f;
        };
        int staticZero = in instanceof Int8InputQuantization.StaticAsymmetric s ? s.zeroPoint() : 0;
        return new QuantLayout(QuantDecode.INT8, 8, rows, cols, 1, groupMap, scales, new float[1], mode, cols,
                Float.POSITIVE_INFINITY, staticScale, staticZero, QuantDecode.INT8);
    }

    private static int gcd(int a, int b) {
        return b == 0 ? a : gcd(b, a % b);
    }

    /** Writes the packed codes of {@code blocks}, {@link #codeInts} ints in the machine's order, into {@code target}. */
    public void writeCodes(List<? extends WeightMatrix> blocks, MemorySegment target) {
        int wordsPerRow = wordsPerRow();
        int row0 = 0;
        for (WeightMatrix w : blocks) {
            switch (w) {
                case GroupQuantizedMatrix b -> {
                    MemorySegment src = b.codes().data();
                    int r = b.rows();
                    for (int n = 0; n < r; n++) {
                        long at = (long) (row0 + n) * wordsPerRow;
                        for (int word = 0; word < wordsPerRow; word++) {
                            target.setAtIndex(ValueLayout.JAVA_INT, at + word, src.get(LE, ((long) word * r + n) * 4));
                        }
                    }
                }
                case Fp8Matrix b -> writeBytes(b.codes().data(), b.rows(), row0, target);
                case Int8Matrix b -> writeBytes(b.codes().data(), b.rows(), row0, target);
                default -> throw new ConfigException("not a quantised weight: " + w.kind());
            }
            row0 += w.rows();
        }
    }

    /** One-byte codes ({@code rows × cols}, row-major) four to a word, the first in the low byte. */
    private void writeBytes(MemorySegment src, int blockRows, int row0, MemorySegment target) {
        int wordsPerRow = wordsPerRow();
        for (int n = 0; n < blockRows; n++) {
            long at = (long) (row0 + n) * wordsPerRow;
            long from = (long) n * cols;
            for (int word = 0; word < wordsPerRow; word++) {
                int v = 0;
                for (int j = 0; j < 4 && 4 * word + j < cols; j++) {
                    v |= (src.get(ValueLayout.JAVA_BYTE, from + 4L * word + j) & 0xFF) << (8 * j);
                }
                target.setAtIndex(ValueLayout.JAVA_INT, at + word, v);
            }
        }
    }

    /** The packed codes in a Java array, for the twins. */
    public int[] codes(List<? extends WeightMatrix> blocks) {
        int[] out = new int[Math.toIntExact(codeInts())];
        writeCodes(blocks, MemorySegment.ofArray(out));
        return out;
    }
}

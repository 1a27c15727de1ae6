package dev.tornadonn.jvm;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.NativeMemory;
import dev.tornadonn.core.io.MappedCopy;
import dev.tornadonn.core.weights.GroupQuantizedMatrix;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;

/**
 * The JVM kernels' layout of a group-quantised weight (GPTQ). Columns are sorted by group (which
 * undoes act-order), each group is padded to a multiple of 16 columns and the whole row to a
 * multiple of 128, so every 16-column block belongs to one group. A row is stored as 128-column
 * chunks of 16 ints; nibble {@code i} of int {@code j} holds the code of position
 * {@code 16·i + j} in its chunk, so unpacking nibble plane {@code i} gives 16 consecutive
 * positions. Codes wider than 4 bits take a second plane array for their high nibble.
 *
 * <p>Per (row, group) the layout keeps the scale and the zero point; a weight decodes as
 * {@code (q − zero)·scale}, exactly the dequantised value rounded once. {@code chunksInOneGroup}
 * says whether every chunk lies in a single group (groups of a multiple of 128 columns, act-order
 * or not), which the multi-row GEMV needs; {@code inColumnOrder} that position p holds column p
 * (no act-order, groups of multiples of 16), so that x needs no gathering.
 *
 * <p>The layout is built straight from the checkpoint's packed words, a band of them at a time,
 * so no unpacked copy of the codes ever exists and a mapped checkpoint's pages are released as
 * soon as they are read.
 */
record GroupQuantLayout(int rows, int cols, int paddedCols, int planes, MemorySegment packed, int[] columnOfPosition,
                        int[] blockGroup, int groups, float[] scales, float[] zeros, boolean chunksInOneGroup,
                        boolean inColumnOrder)
        implements KernelLayout {
    static final int BLOCK = 16;
    static final int CHUNK = 8 * BLOCK;
    static final int INTS_PER_CHUNK = BLOCK;
    /** The packed ints' order: the kernels load them as vectors in the machine's own order. */
    static final java.nio.ByteOrder ORDER = java.nio.ByteOrder.nativeOrder();
    private static final ValueLayout.OfInt WORD = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    int chunks() {
        return paddedCols / CHUNK;
    }

    /** Ints of one plane of one row. */
    int planeInts() {
        return chunks() * INTS_PER_CHUNK;
    }

    @Override
    public long bytes() {
        return packed.byteSize() + 4L * scales.length + 4L * zeros.length + 4L * columnOfPosition.length
                + 4L * blockGroup.length;
    }

    static GroupQuantLayout of(GroupQuantizedMatrix m) {
        return of(List.of(m));
    }

    /** Whether {@code blocks} can share one layout: the same bits and the same groups of the same columns. */
    static boolean fusable(List<GroupQuantizedMatrix> blocks) {
        GroupQuantizedMatrix first = blocks.get(0);
        for (GroupQuantizedMatrix b : blocks) {
            if (b.bits() != first.bits() || b.groups() != first.groups() || b.cols() != first.cols()
                    || !Arrays.equals(b.groupOf(), first.groupOf())) {
                return false;
            }
        }
        return true;
    }

    /** One layout of {@code blocks} stacked along the rows; they must be {@link #fusable}. */
    static GroupQuantLayout of(List<GroupQuantizedMatrix> blocks) {
        if (!fusable(blocks)) {
            throw new ConfigException("group-quantised blocks with different bits or groups cannot share a layout");
        }
        GroupQuantizedMatrix m = blocks.get(0);
        int groups = m.groups();
        int[] count = new int[groups];
        for (int g : m.groupOf()) {
            count[g]++;
        }
        int[] start = new int[groups + 1];
        for (int g = 0; g < groups; g++) {
            start[g + 1] = start[g] + (count[g] + BLOCK - 1) / BLOCK * BLOCK;
        }
        int padded = (start[groups] + CHUNK - 1) / CHUNK * CHUNK;
        int[] columnOfPosition = new int[padded];
        Arrays.fill(columnOfPosition, -1);
        int[] positionOfColumn = new int[m.cols()];
        int[] next = start.clone();
        for (int k = 0; k < m.cols(); k++) {
            int pos = next[m.groupOf()[k]]++;
            columnOfPosition[pos] = k;
            positionOfColumn[k] = pos;
        }
        int[] blockGroup = new int[padded / BLOCK];
        for (int g = 0; g < groups; g++) {
            for (int b = start[g] / BLOCK; b < start[g + 1] / BLOCK; b++) {
                blockGroup[b] = g;
            }
        }
        for (int b = start[groups] / BLOCK; b < blockGroup.length; b++) {
            blockGroup[b] = groups - 1; // tail padding: x is zero there, any group will do
        }
        int planes = m.bits() <= 4 ? 1 : 2;
        int planeInts = padded / CHUNK * INTS_PER_CHUNK;
        long rows = 0;
        for (GroupQuantizedMatrix b : blocks) {
            rows += b.rows();
        }
        // Off the heap: a heap this large would let the young generation grow with it.
        long ints = intIndexed(rows * planes * planeInts, "packed codes");
        MemorySegment packed = NativeMemory.allocate(4 * ints, "the packed codes of a " + rows + " x " + m.cols() + " "
                + m.describe() + " weight");
        float[] scales = blocks.size() == 1 ? m.scales() : new float[(int) intIndexed(rows * groups, "scales")];
        float[] zeros = blocks.size() == 1 ? m.zeros() : new float[scales.length];
        int row0 = 0;
        for (GroupQuantizedMatrix b : blocks) {
            pack(b, row0, planes, planeInts, positionOfColumn, packed);
            if (blocks.size() > 1) {
                System.arraycopy(b.scales(), 0, scales, row0 * groups, b.rows() * groups);
                System.arraycopy(b.zeros(), 0, zeros, row0 * groups, b.rows() * groups);
            }
            row0 += b.rows();
        }
        boolean chunksInOneGroup = true;
        for (int b = 0; b < blockGroup.length; b++) {
            chunksInOneGroup &= blockGroup[b] == blockGroup[b / 8 * 8];
        }
        boolean inColumnOrder = true;
        for (int pos = 0; pos < padded; pos++) {
            inColumnOrder &= columnOfPosition[pos] == (pos < m.cols() ? pos : -1);
        }
        return new GroupQuantLayout(Math.toIntExact(rows), m.cols(), padded, planes, packed, columnOfPosition, blockGroup,
                groups, scales, zeros, chunksInOneGroup, inColumnOrder);
    }

    /** The kernels index codes and scales with ints: a weight that needs more is a clear error, not a wrapped index. */
    private static long intIndexed(long n, String what) {
        if (n > Integer.MAX_VALUE - 64) {
            throw new ConfigException("the JVM kernels index a group-quantised weight's " + what + " with ints, at most "
                    + "2^31; this one needs " + n + " (shard the layer over more devices)");
        }
        return n;
    }

    /**
     * Scatters block {@code b}'s codes into rows {@code row0...} of {@code packed}, reading the
     * checkpoint's words in bands of whole word-rows (the order they lie in the file) and
     * releasing each band's pages once every thread has read it.
     */
    private static void pack(GroupQuantizedMatrix b, int row0, int planes, int planeInts, int[] positionOfColumn,
                             MemorySegment packed) {
        int bits = b.bits();
        int n = b.rows();
        int words = b.codes().shape().dim(0);
        MemorySegment src = b.codes().data();
        long wordRowBytes = 4L * n;
        boolean whole = isPlainFourBit(b, positionOfColumn);
        // Whole chunks per band on the fast path: 16 word-rows hold one chunk of every row.
        int band = (int) Math.max(16, Math.min(words, MappedCopy.CHUNK / wordRowBytes) / 16 * 16);
        for (int w0 = 0; w0 < words; w0 += band) {
            int wFrom = w0;
            int wTo = Math.min(words, w0 + band);
            Parallel.forRows(n, (from, to) -> {
                if (whole) {
                    packChunks(src, n, words, wFrom, wTo, from, to, row0, planeInts, packed);
                    return;
                }
                for (int w = wFrom; w < wTo; w++) {
                    for (int r = from; r < to; r++) {
                        int word = src.get(WORD, (w * (long) n + r) * 4);
                        long base = (long) (row0 + r) * planes * planeInts;
                        if (32 % bits == 0) {
                            int per = 32 / bits;
                            for (int j = 0; j < per; j++) {
                                int k = w * per + j;
                                if (k < b.cols()) {
                                    put(packed, base, planes, planeInts, positionOfColumn[k], (word >>> (bits * j)) & ((1 << bits) - 1));
                                }
                            }
                        } else { // 3-bit codes straddle words: take each code whose first bit lies in this word
                            for (long bit = ((long) w * 32 + bits - 1) / bits * bits; bit < (long) (w + 1) * 32; bit += bits) {
                                int k = (int) (bit / bits);
                                if (k < b.cols()) {
                                    put(packed, base, planes, planeInts, positionOfColumn[k], b.code(r, k));
                                }
                            }
                        }
                    }
                }
            });
            MappedCopy.release(src.asSlice(wFrom * wordRowBytes, (wTo - wFrom) * wordRowBytes));
        }
    }

    /** 4-bit codes in whole words, each at the position of its own column: GPTQ without act-order. */
    private static boolean isPlainFourBit(GroupQuantizedMatrix b, int[] positionOfColumn) {
        if (b.bits() != 4 || b.cols() % 8 != 0) {
            return false;
        }
        for (int k = 0; k < positionOfColumn.length; k++) {
            if (positionOfColumn[k] != k) {
                return false;
            }
        }
        return true;
    }

    /**
     * Rows {@code [from, to)} of the chunks that word-rows {@code [wFrom, wTo)} hold, each chunk's
     * 16 ints made whole from its 16 words: word {@code 16c + i} holds positions
     * {@code 8i .. 8i + 7} of chunk c, that is plane {@code i / 2}, lanes {@code 8(i mod 2) ..}.
     */
    private static void packChunks(MemorySegment src, int n, int words, int wFrom, int wTo, int from, int to, int row0,
                                   int planeInts, MemorySegment packed) {
        int[] w = new int[INTS_PER_CHUNK];
        for (int r = from; r < to; r++) {
            long rowBase = (long) (row0 + r) * planeInts;
            for (int c = wFrom / 16; c * 16 < wTo; c++) {
                for (int i = 0; i < 16; i++) {
                    int word = 16 * c + i;
                    w[i] = word < words ? src.get(WORD, ((long) word * n + r) * 4) : 0;
                }
                for (int lane = 0; lane < INTS_PER_CHUNK; lane++) {
                    int shift = 4 * (lane & 7);
                    int v = 0;
                    for (int plane = 0; plane < 8; plane++) {
                        v |= ((w[2 * plane + (lane >> 3)] >>> shift) & 0xF) << (4 * plane);
                    }
                    packed.setAtIndex(ValueLayout.JAVA_INT, rowBase + (long) c * INTS_PER_CHUNK + lane, v);
                }
            }
        }
    }

    private static void put(MemorySegment packed, long rowBase, int planes, int planeInts, int pos, int code) {
        int chunk = pos / CHUNK;
        int within = pos % CHUNK;
        int plane = within / BLOCK;
        int lane = within % BLOCK;
        for (int p = 0; p < planes; p++) {
            int nibble = (code >>> (4 * p)) & 0xF;
            long at = rowBase + (long) p * planeInts + chunk * INTS_PER_CHUNK + lane;
            packed.setAtIndex(ValueLayout.JAVA_INT, at, packed.getAtIndex(ValueLayout.JAVA_INT, at) | nibble << (4 * plane));
        }
    }
}

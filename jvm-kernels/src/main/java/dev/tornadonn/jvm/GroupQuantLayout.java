package dev.tornadonn.jvm;

import dev.tornadonn.core.backend.PreparedMatrix;
import dev.tornadonn.core.quant.GroupQuantizedMatrix;

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
 * or not), which the multi-row GEMV needs.
 */
record GroupQuantLayout(int rows, int cols, int paddedCols, int planes, int[] packed, int[] columnOfPosition,
                        int[] blockGroup, int groups, float[] scales, float[] zeros, boolean chunksInOneGroup)
        implements PreparedMatrix {
    static final int BLOCK = 16;
    static final int CHUNK = 8 * BLOCK;
    static final int INTS_PER_CHUNK = BLOCK;

    int chunks() {
        return paddedCols / CHUNK;
    }

    /** Ints of one plane of one row. */
    int planeInts() {
        return chunks() * INTS_PER_CHUNK;
    }

    @Override
    public long streamedBytes() {
        return 4L * packed.length + 4L * scales.length + 4L * zeros.length;
    }

    static GroupQuantLayout of(GroupQuantizedMatrix m) {
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
        java.util.Arrays.fill(columnOfPosition, -1);
        int[] next = start.clone();
        for (int k = 0; k < m.cols(); k++) {
            columnOfPosition[next[m.groupOf()[k]]++] = k;
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
        int chunks = padded / CHUNK;
        int planeInts = chunks * INTS_PER_CHUNK;
        int[] packed = new int[Math.multiplyExact(Math.multiplyExact(m.rows(), planes), planeInts)];
        for (int n = 0; n < m.rows(); n++) {
            for (int pos = 0; pos < padded; pos++) {
                int k = columnOfPosition[pos];
                if (k < 0) {
                    continue;
                }
                int code = m.code(n, k);
                int chunk = pos / CHUNK;
                int within = pos % CHUNK;
                int plane = within / BLOCK;
                int lane = within % BLOCK;
                for (int p = 0; p < planes; p++) {
                    int nibble = (code >>> (4 * p)) & 0xF;
                    packed[(n * planes + p) * planeInts + chunk * INTS_PER_CHUNK + lane] |= nibble << (4 * plane);
                }
            }
        }
        boolean chunksInOneGroup = true;
        for (int b = 0; b < blockGroup.length; b++) {
            chunksInOneGroup &= blockGroup[b] == blockGroup[b / 8 * 8];
        }
        return new GroupQuantLayout(m.rows(), m.cols(), padded, planes, packed, columnOfPosition, blockGroup, groups,
                m.scales().clone(), m.zeros().clone(), chunksInOneGroup);
    }
}

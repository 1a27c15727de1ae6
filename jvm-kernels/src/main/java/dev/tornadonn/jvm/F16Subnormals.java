package dev.tornadonn.jvm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The subnormal weights of an f16 matrix, kept apart, per row by column: the vector GEMV reads
 * every weight with a zero exponent as zero (so that no subnormal reaches an FMA, where it costs a
 * microcode assist of about a hundred cycles) and adds these few products on the side. A trained
 * checkpoint's f16 weights are about 0.4 % subnormal (standard deviation 1/√8192).
 *
 * @param rowStart {@code rows + 1} offsets: row n's entries are {@code [rowStart[n], rowStart[n + 1])}
 * @param columns  each entry's column, ascending within a row
 * @param values   each entry's exact value
 */
record F16Subnormals(int[] rowStart, int[] columns, float[] values) {
    private static final ValueLayout.OfLong WORDS = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Each 16-bit lane's exponent field, and each lane's top bit. */
    private static final long EXPONENTS = 0x7C007C007C007C00L;
    private static final long TOP_BITS = 0x8000800080008000L;

    long bytes() {
        return 4L * rowStart.length + 8L * columns.length;
    }

    /** Whether {@code h} is a subnormal f16 (a zero exponent, a nonzero mantissa). */
    static boolean isSubnormal(short h) {
        return (h & 0x7C00) == 0 && (h & 0x03FF) != 0;
    }

    /** Those of the {@code (n, k)} f16 weight {@code w}, found a band of rows per task. */
    static F16Subnormals find(MemorySegment w, int n, int k) {
        int[] rowStart = new int[n + 1];
        Parallel.forRows(n, (from, to) -> {
            for (int r = from; r < to; r++) {
                rowStart[r + 1] = count(w, (long) r * k, k);
            }
        });
        for (int r = 0; r < n; r++) {
            rowStart[r + 1] += rowStart[r];
        }
        int[] columns = new int[rowStart[n]];
        float[] values = new float[rowStart[n]];
        Parallel.forRows(n, (from, to) -> {
            for (int r = from; r < to; r++) {
                int at = rowStart[r];
                for (int c = 0; at < rowStart[r + 1]; c++) {
                    short h = w.get(HALF, 2 * ((long) r * k + c));
                    if (isSubnormal(h)) {
                        columns[at] = c;
                        values[at++] = Float.float16ToFloat(h);
                    }
                }
            }
        });
        return new F16Subnormals(rowStart, columns, values);
    }

    /**
     * The subnormals among {@code k} halves from element {@code first}, four at a time: a lane's
     * exponent field (at most 0x7C00) plus 0x7C00 reaches the lane's top bit, and no further,
     * unless the field is zero, so a word whose four top bits all come out set is skipped.
     */
    private static int count(MemorySegment w, long first, int k) {
        int count = 0;
        int c = 0;
        for (; c + 4 <= k; c += 4) {
            long v = w.get(WORDS, 2 * (first + c));
            if ((((v & EXPONENTS) + EXPONENTS) & TOP_BITS) == TOP_BITS) {
                continue;
            }
            for (int l = 0; l < 4; l++) {
                count += isSubnormal((short) (v >>> (16 * l))) ? 1 : 0;
            }
        }
        for (; c < k; c++) {
            count += isSubnormal(w.get(HALF, 2 * (first + c))) ? 1 : 0;
        }
        return count;
    }
}

package dev.tornadonn.core.weights;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.DType;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * Integer codes with a scale and a zero point per (row, group), the shape of GPTQ:
 * {@code W[n, k] = scales[n, g] · (q[n, k] − zeros[n, g])} with {@code g = groupOf[k]}. Groups
 * need not be contiguous in k (GPTQ act-order); a backend may reorder columns as long as it
 * reorders x the same way.
 *
 * <p>The codes stay packed as GPTQ's {@code qweight} packs them, never a byte per code: output
 * feature n's codes form one little-endian bit stream along k, code k at bit {@code bits·k}
 * (3-bit codes straddle words), and the stream's 32-bit words lie a row of {@code qweight} apart.
 *
 * @param codes   I32 {@code (ceil(cols·bits/32), rows)}, possibly a view of a mapped checkpoint
 * @param scales  {@code rows × groups}, row-major
 * @param zeros   {@code rows × groups}, row-major, the zero points (exact small integers)
 * @param groupOf {@code cols} entries in {@code [0, groups)}
 */
public record GroupQuantizedMatrix(int rows, int cols, int bits, int groups, Tensor codes, float[] scales,
                                   float[] zeros, int[] groupOf) implements WeightMatrix {
    private static final ValueLayout.OfInt WORD = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public GroupQuantizedMatrix {
        Objects.requireNonNull(codes, "codes");
        Objects.requireNonNull(scales, "scales");
        Objects.requireNonNull(zeros, "zeros");
        Objects.requireNonNull(groupOf, "groupOf");
        if (rows <= 0 || cols <= 0 || groups <= 0) {
            throw new ConfigException("rows, cols and groups must be positive: " + rows + ", " + cols + ", " + groups);
        }
        if (bits < 1 || bits > 8) {
            throw new ConfigException("bits must be 1 to 8, got " + bits);
        }
        if (codes.dtype() != DType.I32 || !codes.shape().equals(Shape.of(words(cols, bits), rows))) {
            throw new ConfigException("packed codes must be I32 " + Shape.of(words(cols, bits), rows)
                    + " for " + rows + " x " + cols + " at " + bits + " bits, got " + codes);
        }
        if (scales.length != (long) rows * groups || zeros.length != (long) rows * groups || groupOf.length != cols) {
            throw new ConfigException("array sizes do not match rows=" + rows + ", cols=" + cols + ", groups=" + groups);
        }
        for (int g : groupOf) {
            if (g < 0 || g >= groups) {
                throw new ConfigException("group index " + g + " outside [0, " + groups + ")");
            }
        }
    }

    /** Packs {@code codes} ({@code rows × cols}, row-major, each below {@code 2^bits}) as GPTQ does: for tests and tools. */
    public static GroupQuantizedMatrix pack(int rows, int cols, int bits, int groups, byte[] codes, float[] scales,
                                            float[] zeros, int[] groupOf) {
        if (codes.length != (long) rows * cols) {
            throw new ConfigException("codes must hold rows × cols = " + rows + " × " + cols);
        }
        Tensor packed = Tensor.allocate(DType.I32, Shape.of(words(cols, bits), rows));
        MemorySegment o = packed.data();
        for (int n = 0; n < rows; n++) {
            for (int k = 0; k < cols; k++) {
                int value = codes[n * cols + k] & 0xFF;
                if (value >= 1 << bits) {
                    throw new ConfigException("code " + value + " does not fit in " + bits + " bits");
                }
                orCode(o, rows, n, bits, k, value);
            }
        }
        return new GroupQuantizedMatrix(rows, cols, bits, groups, packed, scales, zeros, groupOf);
    }

    /** ORs {@code value} in as code {@code k} of output feature {@code n}'s stream in {@code words}. */
    private static void orCode(MemorySegment words, int rows, int n, int bits, int k, int value) {
        long bit = (long) bits * k;
        long word = bit >>> 5;
        int shift = (int) (bit & 31);
        long at = (word * rows + n) * 4;
        words.set(WORD, at, words.get(WORD, at) | value << shift);
        if (shift + bits > 32) {
            long next = ((word + 1) * rows + n) * 4;
            words.set(WORD, next, words.get(WORD, next) | value >>> (32 - shift));
        }
    }

    /** The 32-bit words that hold {@code cols} codes of {@code bits} bits. */
    public static int words(int cols, int bits) {
        return Math.toIntExact(((long) cols * bits + 31) / 32);
    }

    /** The code of weight {@code (row, col)}. */
    public int code(int row, int col) {
        long bit = (long) bits * col;
        long word = bit >>> 5;
        int shift = (int) (bit & 31);
        MemorySegment s = codes.data();
        int value = s.get(WORD, (word * rows + row) * 4) >>> shift;
        if (shift + bits > 32) {
            value |= s.get(WORD, ((word + 1) * rows + row) * 4) << (32 - shift);
        }
        return value & ((1 << bits) - 1);
    }

    /** The dequantised weight {@code (row, col)}, exactly as the kernels see it. */
    public float weight(int row, int col) {
        int g = groupOf[col];
        return scales[row * groups + g] * (code(row, col) - zeros[row * groups + g]);
    }

    /** Whether groups are contiguous runs of equal size in k, as without act-order. */
    public boolean hasPlainGroups() {
        int size = (cols + groups - 1) / groups;
        for (int k = 0; k < cols; k++) {
            if (groupOf[k] != k / size) {
                return false;
            }
        }
        return true;
    }

    @Override
    public WeightKind kind() {
        return WeightKind.GROUP_QUANTIZED;
    }

    @Override
    public String describe() {
        return bits + "-bit, " + groups + (groups == 1 ? " group" : " groups") + (hasPlainGroups() ? "" : ", act-order");
    }

    @Override
    public long packedBytes() {
        return ((long) rows * cols * bits + 7) / 8 + 8L * rows * groups + (hasPlainGroups() ? 0 : 4L * cols);
    }

    @Override
    public GroupQuantizedMatrix selectRows(int[] sel) {
        WeightMatrix.checkIndex(sel, rows, "row");
        int words = words(cols, bits);
        Tensor out = Tensor.allocate(DType.I32, Shape.of(words, sel.length), codes.device());
        int start = WeightMatrix.contiguousStart(sel);
        for (long w = 0; w < words; w++) {
            if (start >= 0) {
                MemorySegment.copy(codes.data(), (w * rows + start) * 4, out.data(), w * sel.length * 4, sel.length * 4L);
            } else {
                for (int r = 0; r < sel.length; r++) {
                    out.data().set(WORD, (w * sel.length + r) * 4, codes.data().get(WORD, (w * rows + sel[r]) * 4));
                }
            }
        }
        float[] s = new float[sel.length * groups];
        float[] z = new float[sel.length * groups];
        for (int r = 0; r < sel.length; r++) {
            System.arraycopy(scales, sel[r] * groups, s, r * groups, groups);
            System.arraycopy(zeros, sel[r] * groups, z, r * groups, groups);
        }
        return new GroupQuantizedMatrix(sel.length, cols, bits, groups, out, s, z, groupOf);
    }

    /**
     * Input features in the given order, every group's scale and zero kept (act-order groups are
     * scattered over k). Codes are repacked unless the selection starts on a word boundary and
     * runs contiguously, when the shard is a view.
     */
    @Override
    public GroupQuantizedMatrix selectColumns(int[] sel) {
        WeightMatrix.checkIndex(sel, cols, "column");
        if (sel.length == 0) {
            throw new ConfigException("a group-quantised shard needs at least one input feature");
        }
        int[] g = new int[sel.length];
        for (int c = 0; c < sel.length; c++) {
            g[c] = groupOf[sel[c]];
        }
        int start = WeightMatrix.contiguousStart(sel);
        int words = words(sel.length, bits);
        if (start >= 0 && (long) start * bits % 32 == 0) {
            int first = (int) ((long) start * bits / 32);
            int end = Math.min(first + words, codes.shape().dim(0));
            Tensor view = codes.slice(0, first, end);
            if (end - first == words) { // the last word may carry the next columns' codes: never read
                return new GroupQuantizedMatrix(rows, sel.length, bits, groups, view, scales, zeros, g);
            }
        }
        Tensor out = Tensor.allocate(DType.I32, Shape.of(words, rows), codes.device());
        for (int n = 0; n < rows; n++) {
            for (int c = 0; c < sel.length; c++) {
                orCode(out.data(), rows, n, bits, c, code(n, sel[c]));
            }
        }
        return new GroupQuantizedMatrix(rows, sel.length, bits, groups, out, scales, zeros, g);
    }
}

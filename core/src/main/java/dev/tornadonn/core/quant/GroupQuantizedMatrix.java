package dev.tornadonn.core.quant;

import java.util.Objects;

/**
 * Integer codes with a scale and a zero point per (row, group), the shape of GPTQ and AWQ:
 * {@code W[n, k] = scales[n, g] · (codes[n, k] − zeros[n, g])} with {@code g = groupOf[k]}.
 * Groups need not be contiguous in k (GPTQ act-order); a backend may reorder columns as long as it
 * reorders x the same way.
 *
 * @param codes   {@code rows × cols} unsigned codes, row-major, each below {@code 2^bits}
 * @param scales  {@code rows × groups}, row-major
 * @param zeros   {@code rows × groups}, row-major, the zero points (exact small integers)
 * @param groupOf {@code cols} entries in {@code [0, groups)}
 */
public record GroupQuantizedMatrix(int rows, int cols, int bits, int groups, byte[] codes, float[] scales,
                                   float[] zeros, int[] groupOf) implements QuantizedMatrix {

    public GroupQuantizedMatrix {
        Objects.requireNonNull(codes, "codes");
        Objects.requireNonNull(scales, "scales");
        Objects.requireNonNull(zeros, "zeros");
        Objects.requireNonNull(groupOf, "groupOf");
        if (rows <= 0 || cols <= 0 || groups <= 0) {
            throw new IllegalArgumentException("rows, cols and groups must be positive: " + rows + ", " + cols + ", " + groups);
        }
        if (bits < 1 || bits > 8) {
            throw new IllegalArgumentException("bits must be 1 to 8, got " + bits);
        }
        if (codes.length != (long) rows * cols || scales.length != (long) rows * groups
                || zeros.length != (long) rows * groups || groupOf.length != cols) {
            throw new IllegalArgumentException("array sizes do not match rows=" + rows + ", cols=" + cols + ", groups=" + groups);
        }
        for (int g : groupOf) {
            if (g < 0 || g >= groups) {
                throw new IllegalArgumentException("group index " + g + " outside [0, " + groups + ")");
            }
        }
    }

    public int code(int row, int col) {
        return codes[row * cols + col] & 0xFF;
    }

    public float weight(int row, int col) {
        int g = groupOf[col];
        return scales[row * groups + g] * (code(row, col) - zeros[row * groups + g]);
    }
}

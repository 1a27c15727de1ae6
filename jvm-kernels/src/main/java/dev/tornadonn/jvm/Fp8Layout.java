package dev.tornadonn.jvm;

import dev.tornadonn.core.backend.PreparedMatrix;
import dev.tornadonn.core.numeric.Float8Format;
import dev.tornadonn.core.quant.Fp8InputQuantization;
import dev.tornadonn.core.quant.Fp8Matrix;
import java.util.TreeSet;

/**
 * The JVM kernels' layout of an fp8 weight. Codes stay one byte per weight, row-major (decoded a
 * row at a time, never the whole matrix), except that subnormal codes are stored as a zero of the
 * same sign and listed per row, by column, in {@code subnormalColumns} and {@code subnormalValues}:
 * every remaining code decodes by bit shifts to a normal f32 (scaled by a power of two), and
 * the kernels add the few subnormal products separately. A subnormal f32 in an FMA costs a
 * microcode assist, about 100 times the FMA (measured on this project's CI kind of CPU). K is cut into segments at every boundary where either
 * the input or the weight scale changes, so within a segment both scales are constant and the
 * product is {@code Σ_seg (Σ_{k∈seg} xq·wq) · sx[m, seg] · sw[n, seg]} with f32 partial sums.
 *
 * @param segmentStart {@code segments + 1} ascending column offsets, from 0 to cols
 * @param weightScales {@code rows × segments}: the weight multiplier of each (row, segment)
 * @param hasSpecials  whether any code is a NaN or infinity (checkpoints normally have none)
 * @param subnormalStart {@code rows + 1} offsets into the subnormal lists: row n's are
 *                       {@code [subnormalStart[n], subnormalStart[n + 1])}
 * @param subnormalColumns the column of each subnormal weight
 * @param subnormalValues  its exact value
 */
record Fp8Layout(int rows, int cols, Float8Format format, byte[] codes, int[] segmentStart, float[] weightScales,
                 Fp8InputQuantization input, boolean hasSpecials, int[] subnormalStart, int[] subnormalColumns,
                 float[] subnormalValues)
        implements PreparedMatrix {

    int segments() {
        return segmentStart.length - 1;
    }

    @Override
    public long streamedBytes() {
        return codes.length + 4L * weightScales.length + 8L * subnormalColumns.length;
    }

    /** Whether {@code code} is a nonzero code with a zero exponent. */
    static boolean isSubnormal(Float8Format f, byte code) {
        int exponentMask = f == Float8Format.E4M3FN ? 0x78 : 0x7C;
        return (code & exponentMask) == 0 && (code & 0x7F) != 0;
    }


    /** Whether any code is a NaN (or an e5m2 infinity): without, kernels may skip patching them in. */
    private static boolean hasSpecials(Fp8Matrix m) {
        int mask = m.format() == Float8Format.E4M3FN ? 0x7F : 0x7C;
        for (byte b : m.codes()) {
            if ((b & mask) == mask) {
                return true;
            }
        }
        return false;
    }

    static Fp8Layout of(Fp8Matrix m) {
        int k = m.cols();
        TreeSet<Integer> cuts = new TreeSet<>();
        cuts.add(0);
        cuts.add(k);
        for (int block : new int[] {m.weightScale().blockCols(), m.input().blockCols()}) {
            for (int c = block; block > 0 && c < k; c += block) {
                cuts.add(c);
            }
        }
        int[] start = cuts.stream().mapToInt(Integer::intValue).toArray();
        int segments = start.length - 1;
        float[] ws = new float[Math.multiplyExact(m.rows(), segments)];
        for (int n = 0; n < m.rows(); n++) {
            for (int s = 0; s < segments; s++) {
                ws[n * segments + s] = m.weightScale().scale(n, start[s], k);
            }
        }
        byte[] codes = m.codes().clone();
        int[] subStart = new int[m.rows() + 1];
        int[] subCols = new int[16];
        float[] subVals = new float[16];
        int count = 0;
        for (int n = 0; n < m.rows(); n++) {
            for (int c = 0; c < k; c++) {
                int i = n * k + c;
                if (isSubnormal(m.format(), codes[i])) {
                    if (count == subCols.length) {
                        subCols = java.util.Arrays.copyOf(subCols, 2 * count);
                        subVals = java.util.Arrays.copyOf(subVals, 2 * count);
                    }
                    subCols[count] = c;
                    subVals[count++] = m.format().toFloat(codes[i]);
                    codes[i] &= (byte) 0x80;
                }
            }
            subStart[n + 1] = count;
        }
        return new Fp8Layout(m.rows(), k, m.format(), codes, start, ws, m.input(), hasSpecials(m), subStart,
                java.util.Arrays.copyOf(subCols, count), java.util.Arrays.copyOf(subVals, count));
    }
}

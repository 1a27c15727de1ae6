package dev.tornadonn.jvm;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.NativeMemory;
import dev.tornadonn.core.io.MappedCopy;
import dev.tornadonn.core.numeric.Float8Format;
import dev.tornadonn.core.weights.Fp8InputQuantization;
import dev.tornadonn.core.weights.Fp8Matrix;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;
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
record Fp8Layout(int rows, int cols, Float8Format format, MemorySegment codes, int[] segmentStart, float[] weightScales,
                 Fp8InputQuantization input, boolean hasSpecials, int[] subnormalStart, int[] subnormalColumns,
                 float[] subnormalValues)
        implements KernelLayout {

    int segments() {
        return segmentStart.length - 1;
    }

    @Override
    public long bytes() {
        return codes.byteSize() + 4L * weightScales.length + 4L * segmentStart.length + 4L * subnormalStart.length
                + 8L * subnormalColumns.length;
    }

    /** Whether {@code code} is a nonzero code with a zero exponent. */
    static boolean isSubnormal(Float8Format f, byte code) {
        int exponentMask = f == Float8Format.E4M3FN ? 0x78 : 0x7C;
        return (code & exponentMask) == 0 && (code & 0x7F) != 0;
    }

    /** Whether {@code code} is a NaN (or an e5m2 infinity): without any, kernels may skip patching them in. */
    private static boolean isSpecial(Float8Format f, byte code) {
        int mask = f == Float8Format.E4M3FN ? 0x7F : 0x7C;
        return (code & mask) == mask;
    }

    static Fp8Layout of(Fp8Matrix m) {
        return of(List.of(m));
    }

    /** Where K is cut: every boundary at which the input or the weight scale changes. */
    private static int[] segmentStarts(Fp8Matrix m) {
        int k = m.cols();
        TreeSet<Integer> cuts = new TreeSet<>();
        cuts.add(0);
        cuts.add(k);
        for (int block : new int[] {m.weightScale().blockCols(), m.input().blockCols()}) {
            for (int c = block; block > 0 && c < k; c += block) {
                cuts.add(c);
            }
        }
        return cuts.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Whether {@code blocks} can share one layout: one format, one input quantisation, the same segments. */
    static boolean fusable(List<Fp8Matrix> blocks) {
        Fp8Matrix first = blocks.get(0);
        int[] cuts = segmentStarts(first);
        for (Fp8Matrix b : blocks) {
            if (b.format() != first.format() || !b.input().equals(first.input()) || !Arrays.equals(segmentStarts(b), cuts)) {
                return false;
            }
        }
        return true;
    }

    /**
     * One layout of {@code blocks} stacked along the rows; they must be {@link #fusable}. The codes
     * are copied once, straight from the checkpoint, a band of rows at a time.
     */
    static Fp8Layout of(List<Fp8Matrix> blocks) {
        if (!fusable(blocks)) {
            throw new ConfigException("fp8 blocks with different formats, input quantisations or scale blocks "
                    + "cannot share a layout");
        }
        Fp8Matrix first = blocks.get(0);
        int k = first.cols();
        int[] start = segmentStarts(first);
        int segments = start.length - 1;
        long totalRows = 0;
        for (Fp8Matrix b : blocks) {
            totalRows += b.rows();
        }
        long codeCount = totalRows * k;
        if (codeCount > Integer.MAX_VALUE - 8) {
            throw new ConfigException("the JVM kernels hold an fp8 weight's codes in one array of at most 2^31 "
                    + "bytes; this one has " + codeCount + " (shard the layer over more devices)");
        }
        int rows = (int) totalRows;
        float[] ws = new float[Math.multiplyExact(rows, segments)];
        // Off the heap: a heap this large would let the young generation grow with it.
        MemorySegment codes = NativeMemory.allocate(codeCount, "the codes of a " + rows + " x " + k + " " + first.describe()
                + " weight");
        int[] subStart = new int[rows + 1];
        int[] subCols = new int[16];
        float[] subVals = new float[16];
        int count = 0;
        boolean specials = false;
        int row0 = 0;
        for (Fp8Matrix b : blocks) {
            for (int n = 0; n < b.rows(); n++) {
                for (int s = 0; s < segments; s++) {
                    ws[(row0 + n) * segments + s] = b.weightScale().scale(n, start[s], k);
                }
            }
            MappedCopy.copy(b.codes().data(), codes, (long) row0 * k);
            for (int n = row0; n < row0 + b.rows(); n++) {
                for (long i = (long) n * k; i < (long) (n + 1) * k; i++) {
                    byte code = codes.get(ValueLayout.JAVA_BYTE, i);
                    specials |= isSpecial(first.format(), code);
                    if (isSubnormal(first.format(), code)) {
                        if (count == subCols.length) {
                            subCols = Arrays.copyOf(subCols, 2 * count);
                            subVals = Arrays.copyOf(subVals, 2 * count);
                        }
                        subCols[count] = (int) (i - (long) n * k);
                        subVals[count++] = first.format().toFloat(code);
                        codes.set(ValueLayout.JAVA_BYTE, i, (byte) (code & 0x80));
                    }
                }
                subStart[n + 1] = count;
            }
            row0 += b.rows();
        }
        return new Fp8Layout(rows, k, first.format(), codes, start, ws, first.input(), specials, subStart,
                Arrays.copyOf(subCols, count), Arrays.copyOf(subVals, count));
    }
}

package dev.tornadonn.jvm;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.NativeMemory;
import dev.tornadonn.core.io.MappedCopy;
import dev.tornadonn.core.weights.Int8InputQuantization;
import dev.tornadonn.core.weights.Int8Matrix;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * The JVM kernels' layout of an int8 weight: the codes as the checkpoint holds them, one byte per
 * weight, row-major and off the heap; an f32 scale per row; and each row's code sum, which turns
 * the integer product with asymmetric x codes into {@code Σ (xq − z)·w = Σ xq·w − z·Σ w} (vLLM's
 * {@code azp_adj}).
 *
 * @param weightScales the multiplier of each row
 * @param rowSums      {@code Σ_k w[n, k]} for each row n
 */
record Int8Layout(int rows, int cols, MemorySegment codes, float[] weightScales, long[] rowSums,
                  Int8InputQuantization input) implements KernelLayout {

    @Override
    public long bytes() {
        return codes.byteSize() + 4L * weightScales.length + 8L * rowSums.length;
    }

    byte code(int n, int k) {
        return codes.get(ValueLayout.JAVA_BYTE, (long) n * cols + k);
    }

    /** Whether {@code blocks} can share one layout: one input quantisation (an MLP's gate and up, say). */
    static boolean fusable(List<Int8Matrix> blocks) {
        return blocks.stream().allMatch(b -> b.input().equals(blocks.get(0).input()));
    }

    static Int8Layout of(Int8Matrix m) {
        return of(List.of(m));
    }

    /**
     * One layout of {@code blocks} stacked along the rows; they must be {@link #fusable}. The codes
     * are copied once, straight from the checkpoint.
     */
    static Int8Layout of(List<Int8Matrix> blocks) {
        if (!fusable(blocks)) {
            throw new ConfigException("int8 blocks with different input quantisations cannot share a layout");
        }
        Int8Matrix first = blocks.get(0);
        int k = first.cols();
        int rows = 0;
        for (Int8Matrix b : blocks) {
            rows = Math.addExact(rows, b.rows());
        }
        // Off the heap: a heap this large would let the young generation grow with it.
        MemorySegment codes = NativeMemory.allocate((long) rows * k, "the codes of a " + rows + " x " + k + " "
                + first.describe() + " weight");
        float[] scales = new float[rows];
        long[] sums = new long[rows];
        int row0 = 0;
        for (Int8Matrix b : blocks) {
            MappedCopy.copy(b.codes().data(), codes, (long) row0 * k);
            for (int n = 0; n < b.rows(); n++) {
                scales[row0 + n] = b.weightScale().scale(n);
                long sum = 0;
                for (long at = (long) (row0 + n) * k, end = at + k; at < end; at++) {
                    sum += codes.get(ValueLayout.JAVA_BYTE, at);
                }
                sums[row0 + n] = sum;
            }
            row0 += b.rows();
        }
        return new Int8Layout(rows, k, codes, scales, sums, first.input());
    }
}

package dev.tornadonn.reference;

import dev.tornadonn.core.Tensor;

/**
 * Dequantises a Hugging Face GPTQ checkpoint exactly, written from the format's definition and
 * independently of the layer's own unpacking: {@code W[n, k] = scales[g, n] · (q[k, n] − z[g, n])}
 * with {@code g = g_idx[k]} (or {@code k / group_size}), q read from qweight's K-major bit streams
 * and z from qzeros' N-major ones ({@code + 1} for v1 checkpoints, with no wrap: stored
 * {@code 2^bits − 1} is {@code 2^bits}). A last group may be partial ({@code ceil(K / group_size)} groups).
 */
public final class GptqOracle {
    private GptqOracle() {}

    /** {@code (N, K)} row-major float64 weights. */
    public static double[] dequantize(Tensor qweight, Tensor qzeros, Tensor scales, Tensor gIdx, int bits,
                                      int groupSize, boolean v1) {
        int n = qweight.shape().dim(1);
        int k = qweight.shape().dim(0) * 32 / bits;
        int[] qw = qweight.toIntArray();
        int[] qz = qzeros.toIntArray();
        int[] g = gIdx != null ? gIdx.toIntArray() : null;
        int zeroCols = qzeros.shape().dim(1);
        double[] w = new double[n * k];
        for (int c = 0; c < n; c++) {
            final int col = c;
            for (int row = 0; row < k; row++) {
                final int group = g != null ? g[row] : row / (groupSize == -1 ? k : groupSize);
                long q = bitField((long) row * bits, bits, bit -> qw[(int) (bit / 32) * n + col]);
                long z = bitField((long) col * bits, bits, bit -> qz[group * zeroCols + (int) (bit / 32)]);
                if (v1) {
                    z = z + 1; // no wrap: a stored 2^bits − 1 is zero 2^bits (AutoGPTQ, exllama, vLLM)
                }
                w[col * k + row] = scales.getFloat((long) group * n + col) * (double) (q - z);
            }
        }
        return w;
    }

    /** The {@code bits}-wide field starting at bit {@code start} of a little-endian stream of 32-bit words. */
    private static long bitField(long start, int bits, java.util.function.LongToIntFunction wordHolding) {
        long value = 0;
        for (int b = 0; b < bits; b++) {
            long bit = start + b;
            int word = wordHolding.applyAsInt(bit);
            value |= (long) ((word >>> (bit % 32)) & 1) << b;
        }
        return value;
    }
}

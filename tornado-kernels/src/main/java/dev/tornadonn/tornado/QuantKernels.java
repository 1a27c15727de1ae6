package dev.tornadonn.tornado;

import static dev.tornadonn.twins.KernelGeometry.BLOCK;
import static dev.tornadonn.twins.KernelGeometry.GEMV_THREADS;
import static dev.tornadonn.twins.KernelGeometry.PADDED;
import static dev.tornadonn.twins.KernelGeometry.TILE;
import static dev.tornadonn.twins.KernelGeometry.TILE_OUT;

import dev.tornadonn.twins.Fp8InputTwin;
import dev.tornadonn.twins.QuantDecode;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * The dequantising kernels: the GEMV and tiled GEMM of {@link DeviceKernels} over weights kept
 * packed on the device (GPTQ's codes, or fp8 codes four to an int), each weight decoded where it
 * is read (GEMV: in registers; GEMM: as its tile is staged in local memory), and the fp8 input
 * kernels that quantise x on the device before the product. The layout is
 * {@code dev.tornadonn.twins.QuantLayout}'s; each kernel has a plain-Java twin there
 * ({@code RowGemvTwin}, {@code TiledGemmTwin} over {@code QuantLayout.weight}, {@code Fp8InputTwin}).
 */
public final class QuantKernels {
    private QuantKernels() {}

    /** The tiled GEMM with packed weights; indices, tiles and epilogue as {@link DeviceKernels#gemm}. */
    public static void qgemm(KernelContext c, FloatArray x, IntArray rows, IntArray codes, FloatArray table,
                             FloatArray scales, FloatArray zeros, IntArray groupOf, IntArray groupBase, FloatArray bias,
                             FloatArray y, int format, int n, int k, int act, int gated, int hasBias, int bits,
                             int wordsPerRow, int groups) {
        int m = rows.get(0);
        int lx = c.localIdx;
        int ly = c.localIdy;
        int m0 = c.groupIdy * TILE_OUT;
        int n0 = c.groupIdx * TILE_OUT;
        float[] xs = c.allocateFloatLocalArray(TILE_OUT * PADDED);
        float[] gs = c.allocateFloatLocalArray(TILE_OUT * PADDED);
        float[] us = c.allocateFloatLocalArray(TILE_OUT * PADDED);
        float[] accGate = new float[BLOCK * BLOCK];
        float[] accUp = new float[BLOCK * BLOCK];
        for (int i = 0; i < BLOCK * BLOCK; i++) {
            accGate[i] = 0.0f;
            accUp[i] = 0.0f;
        }
        for (int k0 = 0; k0 < k; k0 += TILE) {
            int kk = k0 + lx;
            for (int r = 0; r < BLOCK; r++) {
                int local = ly + TILE * r;
                int row = m0 + local;
                int wRow = n0 + local;
                float xv = 0.0f;
                float gv = 0.0f;
                float uv = 0.0f;
                if (kk < k) {
                    if (row < m) {
                        xv = x.get(row * k + kk);
                    }
                    if (wRow < n) {
                        gv = weight(codes, table, scales, zeros, groupOf, groupBase, format, bits, wordsPerRow, groups, wRow, kk);
                        if (gated != 0) {
                            uv = weight(codes, table, scales, zeros, groupOf, groupBase, format, bits, wordsPerRow, groups,
                                    n + wRow, kk);
                        }
                    }
                }
                xs[local * PADDED + lx] = xv;
                gs[local * PADDED + lx] = gv;
                us[local * PADDED + lx] = uv;
            }
            c.localBarrier();
            for (int t = 0; t < TILE; t++) {
                for (int i = 0; i < BLOCK; i++) {
                    float xt = xs[(ly + TILE * i) * PADDED + t];
                    for (int j = 0; j < BLOCK; j++) {
                        accGate[i * BLOCK + j] += xt * gs[(lx + TILE * j) * PADDED + t];
                        if (gated != 0) {
                            accUp[i * BLOCK + j] += xt * us[(lx + TILE * j) * PADDED + t];
                        }
                    }
                }
            }
            c.localBarrier();
        }
        for (int i = 0; i < BLOCK; i++) {
            for (int j = 0; j < BLOCK; j++) {
                int row = m0 + ly + TILE * i;
                int col = n0 + lx + TILE * j;
                if (row < m && col < n) {
                    y.set(row * n + col, DeviceKernels.store(accGate[i * BLOCK + j], accUp[i * BLOCK + j], bias, col, n, act, gated, hasBias));
                }
            }
        }
    }

    /** The GEMV with packed weights, decoded in registers; work-groups and reduction as {@link DeviceKernels#gemv}. */
    public static void qgemv(KernelContext c, FloatArray x, IntArray rows, IntArray codes, FloatArray table,
                             FloatArray scales, FloatArray zeros, IntArray groupOf, IntArray groupBase, FloatArray bias,
                             FloatArray y, int format, int n, int k, int act, int gated, int hasBias, int bits,
                             int wordsPerRow, int groups) {
        int col = c.groupIdx;
        int row = c.groupIdy;
        int lid = c.localIdx;
        float[] sumGate = c.allocateFloatLocalArray(GEMV_THREADS);
        float[] sumUp = c.allocateFloatLocalArray(GEMV_THREADS);
        float accGate = 0.0f;
        float accUp = 0.0f;
        int m = rows.get(0);
        if (row < m) {
            for (int i = lid; i < k; i += GEMV_THREADS) {
                float xv = x.get(row * k + i);
                accGate += xv * weight(codes, table, scales, zeros, groupOf, groupBase, format, bits, wordsPerRow, groups, col, i);
                if (gated != 0) {
                    accUp += xv * weight(codes, table, scales, zeros, groupOf, groupBase, format, bits, wordsPerRow, groups,
                            n + col, i);
                }
            }
        }
        sumGate[lid] = accGate;
        sumUp[lid] = accUp;
        c.localBarrier();
        for (int stride = GEMV_THREADS / 2; stride > 0; stride >>= 1) {
            if (lid < stride) {
                sumGate[lid] += sumGate[lid + stride];
                sumUp[lid] += sumUp[lid + stride];
            }
            c.localBarrier();
        }
        if (lid == 0 && row < m) {
            y.set(row * n + col, DeviceKernels.store(sumGate[0], sumUp[0], bias, col, n, act, gated, hasBias));
        }
    }

    /** Max |x| of each (row, input segment): one work-group per segment (x) and row (y). */
    public static void fp8Amax(KernelContext c, FloatArray x, IntArray rows, FloatArray amax, int k, int block, int segs) {
        int seg = c.groupIdx;
        int row = c.groupIdy;
        int lid = c.localIdx;
        float[] red = c.allocateFloatLocalArray(GEMV_THREADS);
        int m = rows.get(0);
        float a = 0.0f;
        if (row < m) {
            int from = seg * block;
            int to = Math.min(k, from + block);
            for (int i = from + lid; i < to; i += GEMV_THREADS) {
                float v = Math.abs(x.get(row * k + i));
                a = v > a ? v : a;
            }
        }
        red[lid] = a;
        c.localBarrier();
        for (int stride = GEMV_THREADS / 2; stride > 0; stride >>= 1) {
            if (lid < stride) {
                float o = red[lid + stride];
                red[lid] = o > red[lid] ? o : red[lid];
            }
            c.localBarrier();
        }
        if (lid == 0 && row < m) {
            amax.set(row * segs + seg, red[0]);
        }
    }

    /**
     * {@code xs = fp8(x·(1/s))·s} per (row, input segment) work-group, s from the static scale
     * ({@code params[1]}), the tensor's max over every row's, or the segment's own max, with the
     * upper bound {@code params[0]}.
     */
    public static void fp8Quantise(KernelContext c, FloatArray x, IntArray rows, FloatArray amax, FloatArray params,
                                   FloatArray xs, int k, int block, int segs, int mode, int format) {
        int seg = c.groupIdx;
        int row = c.groupIdy;
        int lid = c.localIdx;
        float[] red = c.allocateFloatLocalArray(GEMV_THREADS);
        int m = rows.get(0);
        float a = 0.0f;
        if (mode == QuantDecode.INPUT_TENSOR) {
            for (int i = lid; i < m; i += GEMV_THREADS) {
                float v = amax.get(i);
                a = v > a ? v : a;
            }
        }
        red[lid] = a;
        c.localBarrier();
        for (int stride = GEMV_THREADS / 2; stride > 0; stride >>= 1) {
            if (lid < stride) {
                float o = red[lid + stride];
                red[lid] = o > red[lid] ? o : red[lid];
            }
            c.localBarrier();
        }
        if (row < m) {
            float own = 0.0f;
            if (mode != QuantDecode.INPUT_STATIC && mode != QuantDecode.INPUT_TENSOR) {
                own = amax.get(row * segs + seg);
            }
            float s = Fp8InputTwin.inputScale(mode, params.get(1), params.get(0), format, red[0], own);
            float inv = s == 0.0f ? 0.0f : 1.0f / s;
            int from = seg * block;
            int to = Math.min(k, from + block);
            for (int i = from + lid; i < to; i += GEMV_THREADS) {
                xs.set(row * k + i, QuantDecode.roundFp8(x.get(row * k + i) * inv, format) * s);
            }
        }
    }

    /** Weight {@code (n, col)}: its code unpacked from the row's words, then dequantised. */
    private static float weight(IntArray codes, FloatArray table, FloatArray scales, FloatArray zeros, IntArray groupOf,
                                IntArray groupBase, int format, int bits, int wordsPerRow, int groups, int n, int col) {
        int bit = col * bits;
        int word = n * wordsPerRow + (bit >> 5);
        int shift = bit & 31;
        int hi = 0;
        if (QuantDecode.straddles(shift, bits)) {
            hi = codes.get(word + 1);
        }
        int q = QuantDecode.code(codes.get(word), hi, shift, bits);
        int g = n * groups + groupOf.get(groupBase.get(n) + col);
        float zero = 0.0f;
        float tableValue = 0.0f;
        if (format == QuantDecode.GPTQ) {
            zero = zeros.get(g);
        } else {
            tableValue = table.get(QuantDecode.tableIndex(format, q));
        }
        return QuantDecode.value(format, q, tableValue, scales.get(g), zero);
    }
}

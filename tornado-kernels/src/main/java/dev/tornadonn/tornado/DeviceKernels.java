package dev.tornadonn.tornado;

import static dev.tornadonn.twins.KernelGeometry.BLOCK;
import static dev.tornadonn.twins.KernelGeometry.GEMV_THREADS;
import static dev.tornadonn.twins.KernelGeometry.PADDED;
import static dev.tornadonn.twins.KernelGeometry.TILE;
import static dev.tornadonn.twins.KernelGeometry.TILE_OUT;

import dev.tornadonn.twins.Epilogue;
import dev.tornadonn.twins.GgufDecode;
import dev.tornadonn.twins.HalfDecode;
import dev.tornadonn.twins.KernelActivation;
import dev.tornadonn.twins.QuantDecode;
import dev.tornadonn.twins.WeightFormat;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;
import uk.ac.manchester.tornado.api.types.arrays.ShortArray;

/**
 * The matmul kernels, JIT-compiled by TornadoVM for each device. Both compute
 * {@code y = epilogue(x · Wᵀ)} for x {@code (m, k)} and W {@code (n, k)}, or with {@code gated != 0}
 * a W of {@code 2n} rows (gate, then up) and {@code y = act(gate + b_g) · (up + b_u)}.
 *
 * <p>One GEMV and one GEMM serve every weight format ({@link DeviceWeight}): f32 values ({@code wf}),
 * bf16/fp16 bits ({@code wh}), GPTQ/fp8/int8 codes kept packed ({@code codes} with {@code scales},
 * {@code zeros} and {@code groupMap}), or GGUF blocks as the file's bytes ({@code codes}, scales
 * inside the blocks), each weight decoded where it is read (GEMV: in registers; GEMM: as its
 * tile is staged in local memory). {@code table} is the decode's lookup table: powers of two for
 * bf16/fp16, the fp8 values for fp8, every f16 value for GGUF's scales. The weight fetch is two
 * methods, {@link #weight} and {@link #ggufWeight}, the kernels picking one by the format: TornadoVM
 * inlines a method only while it has at most 600 graph nodes, its callees included, and counts
 * them before it folds the kernel's format, so one method decoding every format would not compile. {@code format}, {@code n}, {@code k},
 * {@code act}, {@code gated}, {@code hasBias}, {@code bits} and {@code groups} are fixed per layer,
 * and TornadoVM specialises the kernel on them. The row count varies per call, so it comes
 * in a one-element array instead ({@code rows}). Each kernel has a plain-Java twin in
 * {@code dev.tornadonn.twins} with the same indices, checked against the oracle in the default build.
 */
public final class DeviceKernels {
    private DeviceKernels() {}

    /**
     * Tiled GEMM: a {@code TILE × TILE} work-group per {@code TILE_OUT × TILE_OUT} output tile, each
     * work-item computing a {@code BLOCK × BLOCK} block of it (rows and columns {@code TILE} apart,
     * so stores stay coalesced). Each K step stages {@code TILE_OUT × TILE} tiles of x and of W (two
     * for gate/up) in local memory, zero-padded past the edges, so any m, n, k works; every value
     * read from local memory then feeds {@code BLOCK} multiply-adds.
     */
    public static void gemm(KernelContext c, FloatArray x, IntArray rows, FloatArray wf, ShortArray wh,
                            IntArray codes, FloatArray table, FloatArray scales, FloatArray zeros, IntArray groupMap,
                            FloatArray bias, FloatArray y, int format, int n, int k, int act, int gated, int hasBias,
                            int bits, int groups) {
        int m = rows.get(0);
        boolean gguf = WeightFormat.isGguf(format);
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
                        gv = gguf ? ggufWeight(codes, table, format, k, wRow, kk)
                                : weight(wf, wh, codes, table, scales, zeros, groupMap, format, k, bits, groups, wRow, kk);
                        if (gated != 0) {
                            uv = gguf ? ggufWeight(codes, table, format, k, n + wRow, kk)
                                    : weight(wf, wh, codes, table, scales, zeros, groupMap, format, k, bits, groups, n + wRow, kk);
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
                    y.set(row * n + col, store(accGate[i * BLOCK + j], accUp[i * BLOCK + j], bias, col, n, act, gated,
                            hasBias));
                }
            }
        }
    }

    /**
     * GEMV for few rows: a {@code GEMV_THREADS}-wide work-group per (row, output feature); each
     * work-item sums a strided slice of K (coalesced reads of the weight row), then the group
     * reduces in local memory.
     */
    public static void gemv(KernelContext c, FloatArray x, IntArray rows, FloatArray wf, ShortArray wh,
                            IntArray codes, FloatArray table, FloatArray scales, FloatArray zeros, IntArray groupMap,
                            FloatArray bias, FloatArray y, int format, int n, int k, int act, int gated, int hasBias,
                            int bits, int groups) {
        int col = c.groupIdx;
        int row = c.groupIdy;
        int lid = c.localIdx;
        float[] sumGate = c.allocateFloatLocalArray(GEMV_THREADS);
        float[] sumUp = c.allocateFloatLocalArray(GEMV_THREADS);
        float accGate = 0.0f;
        float accUp = 0.0f;
        int m = rows.get(0);
        boolean gguf = WeightFormat.isGguf(format);
        if (row < m) {
            for (int i = lid; i < k; i += GEMV_THREADS) {
                float xv = x.get(row * k + i);
                accGate += xv * (gguf ? ggufWeight(codes, table, format, k, col, i)
                        : weight(wf, wh, codes, table, scales, zeros, groupMap, format, k, bits, groups, col, i));
                if (gated != 0) {
                    accUp += xv * (gguf ? ggufWeight(codes, table, format, k, n + col, i)
                            : weight(wf, wh, codes, table, scales, zeros, groupMap, format, k, bits, groups, n + col, i));
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
            y.set(row * n + col, store(sumGate[0], sumUp[0], bias, col, n, act, gated, hasBias));
        }
    }

    /**
     * Weight {@code (row, col)} as f32: read, decoded from bf16/fp16 bits, or unpacked from the
     * row's words and dequantised ({@link #ggufWeight} decodes GGUF blocks). With it, the only
     * place the kernels branch on the format, which TornadoVM folds.
     * {@code dev.tornadonn.twins.KernelWeight#at} is their twin, step for step.
     */
    private static float weight(FloatArray wf, ShortArray wh, IntArray codes, FloatArray table, FloatArray scales,
                                FloatArray zeros, IntArray groupMap, int format, int k, int bits, int groups, int row,
                                int col) {
        float v;
        if (format == WeightFormat.F32) {
            v = wf.get(row * k + col);
        } else if (format == WeightFormat.BF16 || format == WeightFormat.F16) {
            int h = wh.get(row * k + col);
            v = HalfDecode.value(h, format, table.get(HalfDecode.tableIndex(h, format)));
        } else {
            int bit = col * bits;
            int word = row * QuantDecode.wordsPerRow(k, bits) + (bit >> 5);
            int shift = bit & 31;
            int hi = 0;
            if (QuantDecode.straddles(shift, bits)) {
                hi = codes.get(word + 1);
            }
            int q = QuantDecode.code(codes.get(word), hi, shift, bits);
            int g = row * groups + groupMap.get(groupMap.get(row) + col);
            float zero = 0.0f;
            float tableValue = 0.0f;
            if (format == WeightFormat.GPTQ) {
                zero = zeros.get(g);
            } else if (WeightFormat.isFp8(format)) {
                tableValue = table.get(QuantDecode.tableIndex(format, q));
            }
            v = QuantDecode.value(format, q, tableValue, scales.get(g), zero);
        }
        return v;
    }

    /**
     * Weight {@code (row, col)} of GGUF blocks, decoded from its block's bytes in {@code codes}
     * ({@link GgufDecode}), the f16 scales looked up in {@code table} ({@link GgufDecode#halfTable}).
     * One method per format, each with its format a constant, so that only its own arithmetic is
     * inlined into this one (TornadoVM folds the kernel's format only after inlining).
     */
    private static float ggufWeight(IntArray codes, FloatArray table, int format, int k, int row, int col) {
        float v;
        if (format == WeightFormat.Q4_0) {
            v = ggufQ0Weight(codes, table, WeightFormat.Q4_0, k, row, col);
        } else if (format == WeightFormat.Q8_0) {
            v = ggufQ0Weight(codes, table, WeightFormat.Q8_0, k, row, col);
        } else if (format == WeightFormat.Q4_K) {
            v = q4kWeight(codes, table, k, row, col);
        } else {
            v = q6kWeight(codes, table, k, row, col);
        }
        return v;
    }

    /** Q4_0 or Q8_0 ({@code format}, a constant at each call): {@code d·q}. */
    private static float ggufQ0Weight(IntArray codes, FloatArray table, int format, int k, int row, int col) {
        int w0 = row * GgufDecode.rowWords(format, k);
        int at = GgufDecode.blockStart(format, col);
        int e = GgufDecode.element(format, col);
        int h = GgufDecode.halfOf(codes.get(w0 + (at >> 2)), at);
        int b = ggufByte(codes, w0, at + GgufDecode.q0CodeAt(format, e));
        float d = table.get(h);
        return d * GgufDecode.q0Code(format, b, e);
    }

    /** Q4_K: {@code (d·sc)·q − dmin·m}. */
    private static float q4kWeight(IntArray codes, FloatArray table, int k, int row, int col) {
        int format = WeightFormat.Q4_K;
        int w0 = row * GgufDecode.rowWords(format, k);
        int at = GgufDecode.blockStart(format, col);
        int e = GgufDecode.element(format, col);
        int j = e >> 5;
        int s = at + GgufDecode.Q4_K_SCALES;
        int dWord = codes.get(w0 + (at >> 2)); // d and dmin: a Q4_K block starts on a word
        int hd = GgufDecode.halfOf(dWord, at);
        int hm = GgufDecode.halfOf(dWord, at + GgufDecode.Q4_K_DMIN);
        int a = ggufByte(codes, w0, s + j + 4);
        int b = ggufByte(codes, w0, s + j);
        int c = ggufByte(codes, w0, s + (j & 3));
        int q = GgufDecode.nibble(ggufByte(codes, w0, at + GgufDecode.q4kCodeAt(e)), j & 1);
        float d = table.get(hd);
        float dmin = table.get(hm);
        return d * GgufDecode.q4kScale(j, a, b, c) * q - dmin * GgufDecode.q4kMin(j, a, b);
    }

    /** Q6_K: {@code (d·sc)·q}. */
    private static float q6kWeight(IntArray codes, FloatArray table, int k, int row, int col) {
        int format = WeightFormat.Q6_K;
        int w0 = row * GgufDecode.rowWords(format, k);
        int at = GgufDecode.blockStart(format, col);
        int e = GgufDecode.element(format, col);
        int dAt = at + GgufDecode.Q6_K_D;
        int h = GgufDecode.halfOf(codes.get(w0 + (dAt >> 2)), dAt);
        int low = ggufByte(codes, w0, at + GgufDecode.q6kLowAt(e));
        int high = ggufByte(codes, w0, at + GgufDecode.q6kHighAt(e));
        int sc = GgufDecode.signed(ggufByte(codes, w0, at + GgufDecode.q6kScaleAt(e)));
        float d = table.get(h);
        return d * sc * GgufDecode.q6kCode(e, low, high);
    }

    /** Byte {@code at} of the GGUF row starting at word {@code w0}. */
    private static int ggufByte(IntArray codes, int w0, int at) {
        return GgufDecode.byteOf(codes.get(w0 + (at >> 2)), at);
    }

    /** The epilogue every matmul kernel shares: bias, then the activation (or the gated product). */
    static float store(float accGate, float accUp, FloatArray bias, int col, int n, int act, int gated,
                               int hasBias) {
        float g = accGate;
        float u = accUp;
        if (hasBias != 0) {
            g += bias.get(col);
            if (gated != 0) {
                u += bias.get(n + col);
            }
        }
        float e = TornadoMath.exp(KernelActivation.argument(act, g));
        return Epilogue.apply(act, g, e, gated, u);
    }
}

package dev.tornadonn.tornado;

import static dev.tornadonn.twins.KernelGeometry.GEMV_THREADS;

import dev.tornadonn.twins.Fp8InputTwin;
import dev.tornadonn.twins.Int8InputTwin;
import dev.tornadonn.twins.QuantDecode;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * The input kernels: x quantised on the device before the product reads it ({@link DeviceKernels}
 * with an fp8 or int8 {@link DeviceWeight}): to fp8 per tensor, token or block, or to int8
 * statically or per token. Their plain-Java twins are {@code dev.tornadonn.twins.Fp8InputTwin}
 * and {@code dev.tornadonn.twins.Int8InputTwin}.
 *
 * <p>Each ends in a local-memory reduction, written out in each: moved into a helper
 * method (the local array and the context passed in, barriers inside), TornadoVM 5.2 compiled
 * kernels that gave wrong maxima on PoCL (the fp8 dynamic-input conformance cases failed).
 */
public final class InputKernels {
    private InputKernels() {}

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

    /**
     * {@code xq = (q − z)·s} for one row of x per work-group (y), with q its int8 codes: the row's
     * max, min and poison (the sum of {@code v − v}, NaN when the row holds NaN or ±∞, which makes
     * the scale NaN) reduced in local memory, then s, z and the codes as {@link Int8InputTwin}
     * computes them, from the static scale and zero point ({@code params[1]}, {@code params[2]})
     * or the row's own range.
     */
    public static void int8Quantise(KernelContext c, FloatArray x, IntArray rows, FloatArray params, FloatArray xq, int k,
                                    int mode) {
        int row = c.groupIdy;
        int lid = c.localIdx;
        float[] hiRed = c.allocateFloatLocalArray(GEMV_THREADS);
        float[] loRed = c.allocateFloatLocalArray(GEMV_THREADS);
        float[] poisonRed = c.allocateFloatLocalArray(GEMV_THREADS);
        int m = rows.get(0);
        float hi = -Float.MAX_VALUE;
        float lo = Float.MAX_VALUE;
        float poison = 0.0f;
        if (row < m) {
            for (int i = lid; i < k; i += GEMV_THREADS) {
                float v = x.get(row * k + i);
                poison = poison + (v - v);
                hi = v > hi ? v : hi;
                lo = v < lo ? v : lo;
            }
        }
        hiRed[lid] = hi;
        loRed[lid] = lo;
        poisonRed[lid] = poison;
        c.localBarrier();
        for (int stride = GEMV_THREADS / 2; stride > 0; stride >>= 1) {
            if (lid < stride) {
                float h = hiRed[lid + stride];
                float l = loRed[lid + stride];
                hiRed[lid] = h > hiRed[lid] ? h : hiRed[lid];
                loRed[lid] = l < loRed[lid] ? l : loRed[lid];
                poisonRed[lid] = poisonRed[lid] + poisonRed[lid + stride];
            }
            c.localBarrier();
        }
        if (row < m) {
            float rowHi = hiRed[0];
            float rowLo = loRed[0];
            int rowMode = Int8InputTwin.rowMode(mode, rowHi, rowLo);
            float s = Int8InputTwin.rowScale(rowMode, params.get(1), rowHi, rowLo);
            float z = Int8InputTwin.rowZero(rowMode, params.get(2), rowHi, rowLo);
            float inv = Int8InputTwin.rowInverse(rowMode, s, rowHi, rowLo);
            float out = s + poisonRed[0];
            for (int i = lid; i < k; i += GEMV_THREADS) {
                int q = Int8InputTwin.code(rowMode, x.get(row * k + i), s, inv, z);
                xq.set(row * k + i, (q - z) * out);
            }
        }
    }
}

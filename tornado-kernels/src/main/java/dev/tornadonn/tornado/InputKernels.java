package dev.tornadonn.tornado;

import static dev.tornadonn.twins.KernelGeometry.GEMV_THREADS;

import dev.tornadonn.twins.Fp8InputTwin;
import dev.tornadonn.twins.QuantDecode;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * The fp8 input kernels: x quantised on the device, per tensor, token or block, before the product
 * reads it ({@link DeviceKernels} with an fp8 {@link DeviceWeight}). Their plain-Java twin is
 * {@code dev.tornadonn.twins.Fp8InputTwin}.
 *
 * <p>Both end in the same local-memory max reduction, written out in each: moved into a helper
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
}

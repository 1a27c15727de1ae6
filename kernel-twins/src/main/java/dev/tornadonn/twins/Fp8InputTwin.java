package dev.tornadonn.twins;

import static dev.tornadonn.twins.KernelGeometry.GEMV_THREADS;

/**
 * The fp8 input kernels run in plain Java, group by group and barrier phase by phase, as the
 * device runs them ({@code dev.tornadonn.tornado.InputKernels#fp8Amax} and {@code #fp8Quantise}):
 * one {@code GEMV_THREADS}-wide work-group per (input segment, row of x). The first finds each
 * segment's max |x| (skipped for static scales); the second turns those into the scale
 * {@code s} (for a per-tensor scale every group reduces all rows' maxima again) and writes
 * {@code xs = fp8(x·(1/s))·s}, which the quantised GEMV and GEMM then read as their x. A
 * weight-only layer ({@code INPUT_NONE}) runs neither: the product reads x itself.
 */
public final class Fp8InputTwin {
    private Fp8InputTwin() {}

    public static void run(float[] x, int m, QuantLayout w, float[] xs) {
        if (w.inputMode() == QuantDecode.INPUT_NONE) { // weight-only: the product reads x itself
            System.arraycopy(x, 0, xs, 0, m * w.cols());
            return;
        }
        int k = w.cols();
        int segs = w.inputSegments();
        int block = w.inputBlock();
        float[] amax = new float[Math.max(1, m * segs)];
        float[] red = new float[GEMV_THREADS];
        if (w.inputMode() != QuantDecode.INPUT_STATIC) {
            for (int row = 0; row < m; row++) {
                for (int seg = 0; seg < segs; seg++) {
                    int from = seg * block;
                    int to = Math.min(k, from + block);
                    for (int lid = 0; lid < GEMV_THREADS; lid++) {
                        float a = 0.0f;
                        for (int c = from + lid; c < to; c += GEMV_THREADS) {
                            float v = Math.abs(x[row * k + c]);
                            a = v > a ? v : a;
                        }
                        red[lid] = a;
                    }
                    maxReduce(red);
                    amax[row * segs + seg] = red[0];
                }
            }
        }
        for (int row = 0; row < m; row++) {
            for (int seg = 0; seg < segs; seg++) {
                for (int lid = 0; lid < GEMV_THREADS; lid++) {
                    float a = 0.0f;
                    if (w.inputMode() == QuantDecode.INPUT_TENSOR) {
                        for (int i = lid; i < m; i += GEMV_THREADS) {
                            a = amax[i] > a ? amax[i] : a;
                        }
                    }
                    red[lid] = a;
                }
                maxReduce(red);
                for (int lid = 0; lid < GEMV_THREADS; lid++) {
                    float s = inputScale(w.inputMode(), w.staticScale(), w.upperBound(), w.inputFormat(), red[0], amax[row * segs + seg]);
                    float inv = s == 0.0f ? 0.0f : 1.0f / s;
                    int from = seg * block;
                    int to = Math.min(k, from + block);
                    for (int c = from + lid; c < to; c += GEMV_THREADS) {
                        xs[row * k + c] = QuantDecode.roundFp8(x[row * k + c] * inv, w.inputFormat()) * s;
                    }
                }
            }
        }
    }

    /** The scale of one segment: static, the tensor's max over all rows, or the segment's own. */
    public static float inputScale(int mode, float staticScale, float upperBound, int format, float tensorMax, float segmentMax) {
        float s = staticScale;
        if (mode == QuantDecode.INPUT_TENSOR) {
            s = QuantDecode.dynamicScale(tensorMax, upperBound, format);
        } else if (mode != QuantDecode.INPUT_STATIC) {
            s = QuantDecode.dynamicScale(segmentMax, upperBound, format);
        }
        return s;
    }

    private static void maxReduce(float[] red) {
        for (int stride = GEMV_THREADS / 2; stride > 0; stride >>= 1) {
            for (int lid = 0; lid < stride; lid++) {
                red[lid] = red[lid + stride] > red[lid] ? red[lid + stride] : red[lid];
            }
        }
    }
}

package dev.tornadonn.jvm;

import dev.tornadonn.core.numeric.Float8Format;
import dev.tornadonn.core.weights.Fp8InputQuantization;

/**
 * Quantises x to fp8 before the product: {@code xq = fp8(x · (1/s))} in f32, RNE with saturation,
 * {@code s = min(max|x|, ub) / FMAX} for dynamic scales. A zero scale (all-zero group) gives
 * {@code 1/s = 0}, so zeros, never NaN. The x side is O(M·K), cheap next to the O(N·K) weight side.
 *
 * <p>A weight-only layer leaves x unrounded, but scales each row by a power of two that brings its
 * largest magnitude into [1, 2): exact (short of a row spanning more than 2^126), so the products and their f32 sums are those of x itself,
 * while the kernels, which prescale x by 2^32 and take the fp8 exponent bias out of the weights,
 * see the magnitudes they do for fp8 inputs rather than overflowing or going subnormal.
 *
 * @param xq     {@code m × cols}: the decoded fp8 values of x
 * @param scales {@code m × segments}: the input multiplier of each (row, segment) of the layout
 */
record Fp8Activations(float[] xq, float[] scales) {

    /** x quantised into new arrays. */
    static Fp8Activations of(float[] x, int m, Fp8Layout w) {
        float[] xq = new float[Math.multiplyExact(m, w.cols())];
        float[] sx = new float[Math.multiplyExact(m, w.segments())];
        quantise(x, m, w, xq, sx);
        return new Fp8Activations(xq, sx);
    }

    /**
     * The two element-wise steps of quantising x: plain Java here ({@link #SCALAR}), Vector API in
     * the vector kernels, bit for bit the same.
     */
    interface Rounding {
        /** {@code max |x[i]|} over {@code [from, to)}, NaN if any is NaN (as {@link Math#max}). */
        float absMax(float[] x, int from, int to);

        /** {@code xq[i] = f.round(x[i]·inv)} over {@code [from, to)}. */
        void round(float[] x, int from, int to, float inv, Float8Format f, float[] xq);
    }

    static final Rounding SCALAR = new Rounding() {
        @Override
        public float absMax(float[] x, int from, int to) {
            return Fp8Activations.absMax(x, from, to);
        }

        @Override
        public void round(float[] x, int from, int to, float inv, Float8Format f, float[] xq) {
            for (int c = from; c < to; c++) {
                xq[c] = f.round(x[c] * inv);
            }
        }
    };

    /** x's {@code m} rows quantised into {@code xq[0 .. m·cols)} and their scales into {@code sx[0 .. m·segments)}. */
    static void quantise(float[] x, int m, Fp8Layout w, float[] xq, float[] sx) {
        quantise(x, m, w, xq, sx, SCALAR);
    }

    /** As above, the element-wise steps by {@code r}. */
    static void quantise(float[] x, int m, Fp8Layout w, float[] xq, float[] sx, Rounding r) {
        int k = w.cols();
        int segs = w.segments();
        int[] start = w.segmentStart();
        if (!(w.input() instanceof Fp8InputQuantization.Quantised q)) {
            powerOfTwoRows(x, m, w, xq, sx);
            return;
        }
        Float8Format f = q.format();
        float tensorScale = switch (q) {
            case Fp8InputQuantization.Static s -> s.scale();
            case Fp8InputQuantization.DynamicPerTensor d -> dynamicScale(r.absMax(x, 0, m * k), d.upperBound(), f);
            default -> Float.NaN; // per row or block: computed below
        };
        for (int i = 0; i < m; i++) {
            int row = i * k;
            int seg = 0;
            while (seg < segs) {
                // The extent [from, to) of one input scale, and the layout segments it covers.
                int from = start[seg];
                int to = q.blockCols() > 0 ? Math.min(k, (from / q.blockCols() + 1) * q.blockCols()) : k;
                float s = switch (q) {
                    case Fp8InputQuantization.DynamicPerToken d -> dynamicScale(r.absMax(x, row, row + k), d.upperBound(), f);
                    case Fp8InputQuantization.DynamicBlock d -> dynamicScale(r.absMax(x, row + from, row + to), d.upperBound(), f);
                    default -> tensorScale;
                };
                float inv = s == 0f ? 0f : 1f / s;
                r.round(x, row + from, row + to, inv, f, xq);
                for (; seg < segs && start[seg] < to; seg++) {
                    sx[i * segs + seg] = s;
                }
            }
        }
    }

    /** Each row times {@code 2^-e}, its multiplier {@code 2^e}, e the exponent of its largest finite magnitude. */
    private static void powerOfTwoRows(float[] x, int m, Fp8Layout w, float[] xs, float[] sx) {
        int k = w.cols();
        int segs = w.segments();
        for (int i = 0; i < m; i++) {
            float a = 0f;
            for (int c = i * k; c < (i + 1) * k; c++) {
                float v = Math.abs(x[c]);
                a = v > a && v != Float.POSITIVE_INFINITY ? v : a;
            }
            // A zero row keeps multiplier 1; NaN and infinities pass through unchanged in value.
            int e = a == 0f ? 0 : Math.getExponent(a);
            for (int c = i * k; c < (i + 1) * k; c++) {
                xs[c] = Math.scalb(x[c], -e);
            }
            java.util.Arrays.fill(sx, i * segs, (i + 1) * segs, Math.scalb(1f, e));
        }
    }

    static float dynamicScale(float absMax, float upperBound, Float8Format f) {
        return Math.min(absMax, upperBound) / f.max();
    }

    static float absMax(float[] x, int from, int to) {
        float a = 0f;
        for (int i = from; i < to; i++) {
            a = Math.max(a, Math.abs(x[i]));
        }
        return a;
    }
}

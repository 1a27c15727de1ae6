package dev.tornadonn.layers;

import dev.tornadonn.core.Tensor;

/**
 * MAX's {@code clip_weight}: clamps every weight to {@code ±c}, with c first rounded to the
 * weight's dtype. Done once at load rather than per call; NaN stays NaN.
 */
final class WeightClipping {
    private WeightClipping() {}

    static void validate(double c) {
        if (!(c >= 0) || Double.isInfinite(c)) {
            throw new IllegalArgumentException("clipWeight must be a finite value >= 0 (0 means off), got " + c);
        }
    }

    static Tensor clip(Tensor weight, double c) {
        if (c == 0) {
            return weight;
        }
        float limit = weight.dtype().round((float) c);
        Tensor out = weight.copy();
        long n = out.numel();
        for (long i = 0; i < n; i++) {
            float v = out.getFloat(i);
            if (v > limit) {
                out.setFloat(i, limit);
            } else if (v < -limit) {
                out.setFloat(i, -limit);
            }
        }
        return out;
    }
}

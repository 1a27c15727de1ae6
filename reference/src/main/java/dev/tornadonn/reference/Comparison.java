package dev.tornadonn.reference;

import dev.tornadonn.core.ConfigException;
/**
 * How far an output is from the oracle. A NaN or infinity anywhere in the output fails, whatever
 * the norms say.
 *
 * <p>Errors below {@value #UNDERFLOW_FLOOR} per element are forgiven: an f32 product of
 * subnormals underflows to zero where the float64 oracle keeps, say, 1e-46, which no f32 kernel
 * can represent.
 */
public record Comparison(double relativeL2, double maxAbsError, double refMaxAbs, double diffL2, double refL2,
                         int count, boolean finite) {
    static final double UNDERFLOW_FLOOR = 1e-30;

    public static Comparison of(float[] y, double[] ref) {
        return of(y, ref, ref);
    }

    /**
     * For products, whose rounding error is bounded by the sum of the magnitudes of their terms
     * rather than by the result: errors are relative to {@code scale}, the same product of the
     * operands' absolute values ({@code |x| · |w|ᵀ}). A single dot product that cancels to almost
     * nothing is then judged by what f32 can do, not failed for it.
     */
    public static Comparison of(float[] y, double[] ref, double[] scale) {
        if (y.length != ref.length) {
            throw new ConfigException("output has " + y.length + " elements, reference " + ref.length);
        }
        if (scale.length != ref.length) {
            throw new ConfigException("scale has " + scale.length + " elements, reference " + ref.length);
        }
        double diff2 = 0;
        double ref2 = 0;
        double maxErr = 0;
        double refMax = 0;
        boolean finite = true;
        for (int i = 0; i < y.length; i++) {
            if (!Float.isFinite(y[i])) {
                finite = false;
            }
            double d = y[i] - ref[i];
            diff2 += d * d;
            ref2 += scale[i] * scale[i];
            maxErr = Math.max(maxErr, Math.abs(d));
            refMax = Math.max(refMax, Math.abs(scale[i]));
        }
        double diff = Math.sqrt(diff2);
        double norm = Math.sqrt(ref2);
        // An all-zero reference is compared absolutely.
        return new Comparison(norm == 0 ? diff : diff / norm, maxErr, refMax, diff, norm, y.length, finite);
    }

    public boolean within(Tolerance t) {
        double floor = UNDERFLOW_FLOOR * Math.sqrt(Math.max(count, 1));
        return finite
                && diffL2 <= t.relativeL2() * refL2 + floor
                && maxAbsError <= t.maxAbsRelative() * refMaxAbs + UNDERFLOW_FLOOR;
    }
}

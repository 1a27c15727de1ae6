package dev.tornadonn.reference;

/**
 * How far an output is from the oracle. A NaN or infinity anywhere in the output fails, whatever
 * the norms say.
 */
public record Comparison(double relativeL2, double maxAbsError, double refMaxAbs, boolean finite) {

    public static Comparison of(float[] y, double[] ref) {
        if (y.length != ref.length) {
            throw new IllegalArgumentException("output has " + y.length + " elements, reference " + ref.length);
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
            ref2 += ref[i] * ref[i];
            maxErr = Math.max(maxErr, Math.abs(d));
            refMax = Math.max(refMax, Math.abs(ref[i]));
        }
        // An all-zero reference is compared absolutely.
        double rel = ref2 == 0 ? Math.sqrt(diff2) : Math.sqrt(diff2 / ref2);
        return new Comparison(rel, maxErr, refMax, finite);
    }

    public boolean within(Tolerance t) {
        return finite
                && relativeL2 <= t.relativeL2()
                && maxAbsError <= t.maxAbsRelative() * Math.max(refMaxAbs, Double.MIN_NORMAL);
    }
}

package dev.tornadonn.reference;

/**
 * How close a backend's output must be to the oracle's: relative L2 error
 * {@code ‖y − ref‖ / ‖ref‖}, and the largest absolute error relative to {@code max |ref|}.
 */
public record Tolerance(double relativeL2, double maxAbsRelative) {

    /**
     * For layers computed in f32 from exactly decoded inputs, whatever the storage dtype: the
     * oracle sees the same decoded values, so only f32 rounding separates the two.
     */
    public static final Tolerance F32_ACCUMULATION = new Tolerance(1e-5, 1e-4);
}

package dev.tornadonn.core.numeric;

/**
 * The two OCP 8-bit float formats, with exact decoding and round-to-nearest-even encoding that
 * saturates finite overflow to the largest finite value.
 *
 * <ul>
 *   <li>{@link #E4M3FN}: bias 7, no infinities, NaN is {@code S.1111.111}, max 448. Infinity
 *       saturates to ±448 too, since the format cannot hold it.
 *   <li>{@link #E5M2}: bias 15, IEEE-like with ±infinity and NaNs, max 57344. Infinity stays
 *       infinity; only finite overflow saturates.
 * </ul>
 */
public enum Float8Format {
    E4M3FN(4, 3, 7, 448f, false),
    E5M2(5, 2, 15, 57344f, true);

    private final int exponentBits;
    private final int mantissaBits;
    private final int bias;
    private final float max;
    /** IEEE-like top exponent (inf and NaNs) rather than e4m3fn's single NaN per sign. */
    private final boolean ieeeSpecials;
    private final float[] decodeTable = new float[256];
    /** The smallest normal magnitude; below it the format's values are multiples of the subnormal quantum. */
    private final float minNormal;
    /** The subnormal quantum times 2^23: adding it to a smaller magnitude rounds that to the quantum. */
    private final float subnormalRounder;

    Float8Format(int exponentBits, int mantissaBits, int bias, float max, boolean ieeeSpecials) {
        this.exponentBits = exponentBits;
        this.mantissaBits = mantissaBits;
        this.bias = bias;
        this.max = max;
        this.ieeeSpecials = ieeeSpecials;
        this.minNormal = Math.scalb(1f, 1 - bias);
        this.subnormalRounder = Math.scalb(1f, 1 - bias - mantissaBits + 23);
        for (int b = 0; b < 256; b++) {
            decodeTable[b] = (float) decodeExact(b);
        }
    }

    /** Largest finite magnitude. */
    public float max() {
        return max;
    }

    /** Stored mantissa bits: 3 for e4m3fn, 2 for e5m2. */
    public int mantissaBits() {
        return mantissaBits;
    }

    /** Smallest normal magnitude; below it values are multiples of the subnormal quantum. */
    public float minNormal() {
        return minNormal;
    }

    /**
     * A power of two whose f32 ulp is the format's subnormal quantum: {@code (|v| + r) − r} rounds
     * a magnitude below {@link #minNormal} to that quantum, ties to even, as {@link #round} does.
     */
    public float subnormalRounder() {
        return subnormalRounder;
    }

    /** Whether the format has infinities (e5m2), so that {@link #round} keeps them rather than saturating. */
    public boolean hasInfinities() {
        return ieeeSpecials;
    }

    public float toFloat(byte bits) {
        return decodeTable[bits & 0xFF];
    }

    /** A copy of the 256-entry decode table, for kernels that decode by lookup. */
    public float[] decodeTable() {
        return decodeTable.clone();
    }

    // Runs from the constructor, where the constants E4M3FN and E5M2 are still null: it must not
    // compare `this` against them.
    private double decodeExact(int b) {
        int sign = (b >>> 7) & 1;
        int e = (b >>> mantissaBits) & ((1 << exponentBits) - 1);
        int m = b & ((1 << mantissaBits) - 1);
        int maxExp = (1 << exponentBits) - 1;
        double magnitude;
        if (!ieeeSpecials && e == maxExp && m == (1 << mantissaBits) - 1) {
            magnitude = Double.NaN;
        } else if (ieeeSpecials && e == maxExp) {
            magnitude = m == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
        } else if (e == 0) {
            magnitude = Math.scalb((double) m, 1 - bias - mantissaBits);
        } else {
            magnitude = Math.scalb((double) ((1 << mantissaBits) | m), e - bias - mantissaBits);
        }
        return sign == 1 ? -magnitude : magnitude;
    }

    /**
     * {@code toFloat(fromFloat(value))} without the encoding: the nearest value of this format,
     * ties to even, finite overflow saturated, NaN kept (and e5m2's infinities). The rounding is
     * done in f32 bits (normal range) or by the FPU's own rounding of a sum (subnormal range), so
     * it costs a few integer operations, not a division: the fp8 GEMV quantises every x with it.
     */
    public float round(float value) {
        float abs = Math.abs(value);
        if (!(abs < max)) {
            if (Float.isNaN(value) || ieeeSpecials && Float.isInfinite(value)) {
                return value;
            }
            return Math.copySign(max, value);
        }
        float r;
        if (abs < minNormal) {
            // abs + rounder has the subnormal quantum as its ulp: the addition rounds abs to it
            // (ties to even), and taking the rounder off again is exact.
            r = (abs + subnormalRounder) - subnormalRounder;
        } else {
            int drop = 23 - mantissaBits;
            int bits = Float.floatToRawIntBits(abs);
            bits += (1 << (drop - 1)) - 1 + ((bits >>> drop) & 1); // half minus one, plus the kept lsb: ties to even
            r = Float.intBitsToFloat(bits & (-1 << drop));
        }
        return Math.copySign(r, value);
    }

    public byte fromFloat(float value) {
        int sign = Float.floatToRawIntBits(value) >>> 31 << 7;
        if (Float.isNaN(value)) {
            return (byte) (sign | 0x7F);
        }
        float abs = Math.abs(value);
        if (ieeeSpecials && Float.isInfinite(abs)) {
            return (byte) (sign | 0x7C);
        }
        if (abs >= max) {
            return (byte) (sign | maxFiniteBits());
        }
        // The quantum of abs's binade (never below the subnormal quantum); abs/quantum is exact.
        int exponent = Math.max(Math.getExponent(abs), 1 - bias);
        double quantum = Math.scalb(1.0, exponent - mantissaBits);
        long significand = (long) Math.rint(abs / quantum); // ties to even
        if (significand == 0) {
            return (byte) sign;
        }
        if (significand == 2L << mantissaBits) { // rounded up into the next binade
            significand >>= 1;
            exponent++;
        }
        int bits;
        if (significand < (1L << mantissaBits)) { // subnormal
            bits = (int) significand;
        } else {
            bits = ((exponent + bias) << mantissaBits) | (int) (significand & ((1 << mantissaBits) - 1));
        }
        return (byte) (sign | bits);
    }

    private int maxFiniteBits() {
        return ieeeSpecials ? 0x7B : 0x7E;
    }
}

package dev.tornadonn.core.numeric;

/** bfloat16: the top half of an IEEE binary32, rounded to nearest even. */
public final class BFloat16 {
    private BFloat16() {}

    /** Exact: every bf16 value is a float. */
    public static float toFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** Round to nearest, ties to even; NaN stays a (quiet) NaN with its sign, overflow goes to infinity. */
    public static short fromFloat(float value) {
        int bits = Float.floatToRawIntBits(value);
        if (Float.isNaN(value)) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        int lsb = (bits >>> 16) & 1;
        return (short) ((bits + 0x7FFF + lsb) >>> 16);
    }
}

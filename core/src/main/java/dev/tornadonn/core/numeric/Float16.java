package dev.tornadonn.core.numeric;

/** IEEE binary16. The JDK's conversions are exact on decode and round to nearest even on encode. */
public final class Float16 {
    /** Largest finite value, 65504. */
    public static final float MAX = 65504f;

    private Float16() {}

    public static float toFloat(short bits) {
        return Float.float16ToFloat(bits);
    }

    public static short fromFloat(float value) {
        return Float.floatToFloat16(value);
    }
}

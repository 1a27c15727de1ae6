package dev.tornadonn.twins;

/**
 * bf16 and fp16 bits to f32 with integer and float arithmetic only: OpenCL kernels compiled by
 * TornadoVM cannot reinterpret bits ({@code Float.intBitsToFloat}), so the value is rebuilt as
 * significand × 2^e, with 2^e read from a small table ({@link #powerTable}). Every step is exact,
 * so the result equals the bit-level decode for all 65,536 patterns of each format.
 *
 * <p>Each method has one return: TornadoVM inlines them into kernel loops, where early returns
 * have been seen to mis-lower.
 */
public final class HalfDecode {
    /** Table entries: 256 bf16 exponents, then 32 fp16 exponents. */
    public static final int TABLE_SIZE = 256 + 32;
    private static final int F16_BASE = 256;

    private HalfDecode() {}

    /** The table entry {@link #value} needs for {@code bits}. */
    public static int tableIndex(int bits, int format) {
        int b = bits & 0xFFFF;
        int index;
        if (format == WeightFormat.BF16) {
            index = (b >> 7) & 0xFF;
        } else {
            index = F16_BASE + ((b >> 10) & 0x1F);
        }
        return index;
    }

    /** The value of {@code bits} in {@code format}, given {@code power = powerTable()[tableIndex(bits, format)]}. */
    public static float value(int bits, int format, float power) {
        int b = bits & 0xFFFF;
        int exponent;
        int mantissa;
        float fraction;
        int special;
        if (format == WeightFormat.BF16) {
            exponent = (b >> 7) & 0xFF;
            mantissa = b & 0x7F;
            fraction = mantissa * (1.0f / 128.0f);
            special = 0xFF;
        } else {
            exponent = (b >> 10) & 0x1F;
            mantissa = b & 0x3FF;
            fraction = mantissa * (1.0f / 1024.0f);
            special = 0x1F;
        }
        float significand = exponent == 0 ? fraction : 1.0f + fraction;
        float v = significand * power;
        if (exponent == special && mantissa != 0) {
            v = power - power; // ∞ - ∞: a NaN without a NaN literal, which OpenCL C lacks a spelling for
        }
        if ((b & 0x8000) != 0) {
            v = -v;
        }
        return v;
    }

    /**
     * 2^(e - bias) per biased exponent e; the subnormal exponent 0 scales like 1, and the all-ones
     * exponent is +∞ so that infinities come out of the same multiply.
     */
    public static float[] powerTable() {
        float[] t = new float[TABLE_SIZE];
        t[0] = Math.scalb(1.0f, -126);
        for (int e = 1; e < 255; e++) {
            t[e] = Math.scalb(1.0f, e - 127);
        }
        t[255] = Float.POSITIVE_INFINITY;
        t[F16_BASE] = Math.scalb(1.0f, -14);
        for (int e = 1; e < 31; e++) {
            t[F16_BASE + e] = Math.scalb(1.0f, e - 15);
        }
        t[F16_BASE + 31] = Float.POSITIVE_INFINITY;
        return t;
    }
}

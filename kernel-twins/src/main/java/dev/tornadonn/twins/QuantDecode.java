package dev.tornadonn.twins;

/**
 * The per-element arithmetic of the quantised kernels, shared by the device kernels (which inline
 * it) and their twins: unpacking a code from its 32-bit words, dequantising it, and rounding an
 * input to fp8 or to an integer. Integer and float arithmetic only, one return per method (see
 * {@link HalfDecode}).
 *
 * <p>Formats: {@link #GPTQ} decodes {@code scale · (q − zero)}; {@link #E4M3FN} and {@link #E5M2}
 * decode {@code table[q] · scale}, the table being {@link #fp8Table} (both formats, 256 entries each);
 * {@link #INT8} decodes {@code int8(q) · scale}, q's byte read as two's complement.
 */
public final class QuantDecode {
    public static final int GPTQ = WeightFormat.GPTQ;
    public static final int E4M3FN = WeightFormat.E4M3FN;
    public static final int E5M2 = WeightFormat.E5M2;
    public static final int INT8 = WeightFormat.INT8;

    /** Input quantisation modes: fp8 takes the first four, int8 static and token and their asymmetric forms. */
    public static final int INPUT_STATIC = 0;
    public static final int INPUT_TENSOR = 1;
    public static final int INPUT_TOKEN = 2;
    public static final int INPUT_BLOCK = 3;
    /** Weight-only fp8: x enters the product as it is. */
    public static final int INPUT_NONE = 4;
    public static final int INPUT_STATIC_ASYMMETRIC = 5;
    public static final int INPUT_TOKEN_ASYMMETRIC = 6;

    private QuantDecode() {}

    /**
     * The code starting at bit {@code shift} of {@code lo}, continued in {@code hi} when it straddles
     * the word. Arithmetic shifts and masks only: with {@code >>>}, the 3-bit codes straddling a
     * word whose top bit is set came out wrong from TornadoVM on PoCL (as if shifted with {@code >>}).
     */
    public static int code(int lo, int hi, int shift, int bits) {
        int v = lo >> shift;
        if (shift + bits > 32) {
            v = (v & ((1 << (32 - shift)) - 1)) | (hi << (32 - shift));
        }
        return v & ((1 << bits) - 1);
    }

    /** The 32-bit words one row of {@code k} codes of {@code bits} bits takes. */
    public static int wordsPerRow(int k, int bits) {
        return (k * bits + 31) >> 5;
    }

    /** Whether the code at {@code shift} needs the next word. */
    public static boolean straddles(int shift, int bits) {
        return shift + bits > 32;
    }

    /** The table entry {@link #value} needs for fp8 code {@code q} (0 for GPTQ and int8, which read none). */
    public static int tableIndex(int format, int q) {
        int i = 0;
        if (WeightFormat.isFp8(format)) {
            i = (format - E4M3FN) * 256 + q;
        }
        return i;
    }

    /**
     * The dequantised weight: {@code scale·(q − zero)} for GPTQ, {@code int8(q)·scale} for int8,
     * {@code tableValue·scale} for fp8.
     */
    public static float value(int format, int q, float tableValue, float scale, float zero) {
        float v;
        if (format == GPTQ) {
            v = scale * (q - zero);
        } else if (format == INT8) {
            v = signedByte(q) * scale;
        } else {
            v = tableValue * scale;
        }
        return v;
    }

    /** The 8-bit code {@code q} (0..255) read as two's complement: shifts up and arithmetically back. */
    public static int signedByte(int q) {
        return (q << 24) >> 24;
    }

    /**
     * {@code v} rounded to the nearest integer, ties to even, as {@code Math.rint} (and CUDA's
     * {@code cvt.rni}): by hand, since a float at or above 2^23 is already an integer (so are ±∞,
     * and NaN stays NaN) and below it the integer part fits an int. Casting NaN or a large value
     * to int is undefined in OpenCL C, so only values below 2^23 are cast.
     */
    public static float roundHalfEven(float v) {
        float a = Math.abs(v);
        float r = v;
        if (a < 8388608.0f) {
            int whole = (int) a;
            float frac = a - whole;
            if (frac > 0.5f || (frac == 0.5f && (whole & 1) != 0)) {
                whole = whole + 1;
            }
            r = whole;
            if (v < 0.0f) {
                r = -r;
            }
        }
        return r;
    }

    /**
     * The int8 code of a rounded input {@code q} ({@link #roundHalfEven}) with zero point {@code z}:
     * {@code q + z} saturated to [−128, 127]. A NaN q (0·∞, when the inverse scale overflows) counts
     * as 0, as CUDA's saturating conversion reads it; the sum of the two integers, rounded to f32,
     * saturates exactly as their exact sum would.
     */
    public static int int8Code(float q, float z) {
        float t = q;
        if (t != t) {
            t = 0.0f;
        }
        t = t + z;
        int c;
        if (t >= 127.0f) {
            c = 127;
        } else if (t <= -128.0f) {
            c = -128;
        } else {
            c = (int) t;
        }
        return c;
    }

    /** Both fp8 formats' 256 decoded values, e4m3fn then e5m2. */
    public static float[] fp8Table() {
        float[] t = new float[512];
        System.arraycopy(dev.tornadonn.core.numeric.Float8Format.E4M3FN.decodeTable(), 0, t, 0, 256);
        System.arraycopy(dev.tornadonn.core.numeric.Float8Format.E5M2.decodeTable(), 0, t, 256, 256);
        return t;
    }

    /** The largest finite value of an fp8 format. */
    public static float fp8Max(int format) {
        float m = 57344.0f;
        if (format == E4M3FN) {
            m = 448.0f;
        }
        return m;
    }

    /**
     * {@code v} rounded to the nearest value of an fp8 format, ties to even, finite overflow
     * saturated, NaN kept; e4m3fn saturates infinities too, e5m2 keeps them. Equal to
     * {@code Float8Format.round} for every f32, computed without reinterpreting bits: the binade's
     * quantum q is found by doubling from the subnormal quantum, {@code v/q} is exact, and its
     * integer part rounds by hand (it is below 16).
     */
    public static float roundFp8(float v, int format) {
        float max = 57344.0f;
        float p = 0x1p-14f; // the smallest normal
        float q = 0x1p-16f; // the quantum below 2p
        int doublings = 29;
        if (format == E4M3FN) {
            max = 448.0f;
            p = 0x1p-6f;
            q = 0x1p-9f;
            doublings = 14;
        }
        float a = Math.abs(v);
        float r;
        if (a < max) {
            for (int i = 0; i < doublings; i++) {
                if (a >= p + p) {
                    p = p + p;
                    q = q + q;
                }
            }
            float t = a / q;
            int whole = (int) t;
            float frac = t - whole;
            if (frac > 0.5f || (frac == 0.5f && (whole & 1) != 0)) {
                whole = whole + 1;
            }
            r = whole * q;
        } else if (a != a || (format == E5M2 && a > 3.4028235e38f)) {
            r = a; // NaN, or an e5m2 infinity
        } else {
            r = max;
        }
        if (v < 0.0f) {
            r = -r;
        }
        return r;
    }

    /** The dynamic input scale {@code min(amax, ub)/FMAX} for a format. */
    public static float dynamicScale(float amax, float upperBound, int format) {
        float a = amax;
        if (upperBound < a) {
            a = upperBound;
        }
        return a / fp8Max(format);
    }
}

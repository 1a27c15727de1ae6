package dev.tornadonn.core.numeric;

/**
 * Test-side decodings of every storage format, written from the formats' definitions with
 * {@link Math#scalb} in double; they share no code with the library.
 */
public final class ReferenceFormats {
    private ReferenceFormats() {}

    /** bfloat16: 1 sign, 8 exponent bits (bias 127), 7 mantissa bits. */
    public static double bf16(int p) {
        int s = (p >>> 15) & 1;
        int e = (p >>> 7) & 0xFF;
        int m = p & 0x7F;
        double mag;
        if (e == 0xFF) {
            mag = m == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
        } else if (e == 0) {
            mag = Math.scalb((double) m, -126 - 7);
        } else {
            mag = Math.scalb((double) (128 + m), e - 127 - 7);
        }
        return s == 1 ? -mag : mag;
    }

    /** IEEE binary16: 1 sign, 5 exponent bits (bias 15), 10 mantissa bits. */
    public static double fp16(int p) {
        int s = (p >>> 15) & 1;
        int e = (p >>> 10) & 0x1F;
        int m = p & 0x3FF;
        double mag;
        if (e == 0x1F) {
            mag = m == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
        } else if (e == 0) {
            mag = Math.scalb((double) m, -14 - 10);
        } else {
            mag = Math.scalb((double) (1024 + m), e - 15 - 10);
        }
        return s == 1 ? -mag : mag;
    }

    /** OCP float8_e4m3fn: bias 7, 3 mantissa bits, no infinities, NaN only at S.1111.111. */
    public static double e4m3fn(int p) {
        int s = (p >>> 7) & 1;
        int e = (p >>> 3) & 0xF;
        int m = p & 0x7;
        double mag;
        if (e == 15 && m == 7) {
            mag = Double.NaN;
        } else if (e == 0) {
            mag = Math.scalb((double) m, 1 - 7 - 3); // m/8 * 2^-6
        } else {
            mag = Math.scalb((double) (8 + m), e - 7 - 3); // (1 + m/8) * 2^(e-7)
        }
        return s == 1 ? -mag : mag;
    }

    /** OCP float8_e5m2: bias 15, 2 mantissa bits, exponent 31 is inf (m = 0) or NaN. */
    public static double e5m2(int p) {
        int s = (p >>> 7) & 1;
        int e = (p >>> 2) & 0x1F;
        int m = p & 0x3;
        double mag;
        if (e == 31) {
            mag = m == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
        } else if (e == 0) {
            mag = Math.scalb((double) m, 1 - 15 - 2); // m/4 * 2^-14
        } else {
            mag = Math.scalb((double) (4 + m), e - 15 - 2); // (1 + m/4) * 2^(e-15)
        }
        return s == 1 ? -mag : mag;
    }
}

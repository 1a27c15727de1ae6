package dev.tornadonn.core.numeric;

import static dev.tornadonn.core.numeric.FormatChecks.sameDouble;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tornadonn.core.numeric.FormatChecks.Failures;
import dev.tornadonn.core.numeric.FormatChecks.Overflow;
import java.util.SplittableRandom;
import java.util.function.IntToDoubleFunction;
import org.junit.jupiter.api.Test;

class Float8FormatTest {

    private static int enc(Float8Format f, float v) {
        return f.fromFloat(v) & 0xFF;
    }

    private static float dec(Float8Format f, int p) {
        return f.toFloat((byte) p);
    }

    @Test
    void referenceFormulasKnownValues() {
        assertEquals(448.0, ReferenceFormats.e4m3fn(0x7E));
        assertEquals(-448.0, ReferenceFormats.e4m3fn(0xFE));
        assertEquals(1.0, ReferenceFormats.e4m3fn(0x38));
        assertEquals(0x1p-9, ReferenceFormats.e4m3fn(0x01));
        assertEquals(7 * 0x1p-9, ReferenceFormats.e4m3fn(0x07));
        assertEquals(0x1p-6, ReferenceFormats.e4m3fn(0x08));
        assertEquals(240.0, ReferenceFormats.e4m3fn(0x77));
        assertEquals(256.0, ReferenceFormats.e4m3fn(0x78));
        assertTrue(Double.isNaN(ReferenceFormats.e4m3fn(0x7F)));
        assertEquals(57344.0, ReferenceFormats.e5m2(0x7B));
        assertEquals(1.0, ReferenceFormats.e5m2(0x3C));
        assertEquals(0x1p-16, ReferenceFormats.e5m2(0x01));
        assertEquals(0x1p-14, ReferenceFormats.e5m2(0x04));
        assertEquals(Double.POSITIVE_INFINITY, ReferenceFormats.e5m2(0x7C));
        assertEquals(Double.NEGATIVE_INFINITY, ReferenceFormats.e5m2(0xFC));
    }

    private static void checkDecodeAll(Float8Format fmt, IntToDoubleFunction ref) {
        Failures f = new Failures(fmt + " decode");
        float[] table = fmt.decodeTable();
        assertEquals(256, table.length);
        for (int p = 0; p < 256; p++) {
            double expected = ref.applyAsDouble(p);
            float actual = dec(fmt, p);
            f.check(sameDouble(expected, actual), "0x" + Integer.toHexString(p) + ": expected " + expected + " got " + actual);
            f.check(sameDouble(expected, table[p]), "decodeTable[0x" + Integer.toHexString(p) + "] = " + table[p]);
        }
        f.assertNone();
    }

    @Test
    void e4m3fnDecodesAll256Patterns() {
        checkDecodeAll(Float8Format.E4M3FN, ReferenceFormats::e4m3fn);
        int nans = 0;
        for (int p = 0; p < 256; p++) {
            float v = dec(Float8Format.E4M3FN, p);
            assertFalse(Float.isInfinite(v), "e4m3fn has no infinities: 0x" + Integer.toHexString(p));
            if (Float.isNaN(v)) {
                nans++;
                assertEquals(0x7F, p & 0x7F, "NaN only at S.1111.111");
            }
        }
        assertEquals(2, nans);
        assertEquals(448f, Float8Format.E4M3FN.max());
    }

    @Test
    void e5m2DecodesAll256Patterns() {
        checkDecodeAll(Float8Format.E5M2, ReferenceFormats::e5m2);
        int nans = 0;
        for (int p = 0; p < 256; p++) {
            if (Float.isNaN(dec(Float8Format.E5M2, p))) {
                nans++;
            }
        }
        assertEquals(6, nans);
        assertEquals(57344f, Float8Format.E5M2.max());
    }

    @Test
    void decodeTableIsACopy() {
        float[] t = Float8Format.E4M3FN.decodeTable();
        t[0x38] = 42f;
        assertEquals(1f, dec(Float8Format.E4M3FN, 0x38));
        assertEquals(1f, Float8Format.E4M3FN.decodeTable()[0x38]);
    }

    private static void checkRoundTrip(Float8Format fmt) {
        Failures f = new Failures(fmt + " roundtrip");
        for (int p = 0; p < 256; p++) {
            float v = dec(fmt, p);
            int back = enc(fmt, v);
            if (Float.isNaN(v)) {
                f.check(Float.isNaN(dec(fmt, back)), "NaN 0x" + Integer.toHexString(p) + " -> 0x" + Integer.toHexString(back));
            } else {
                f.expectBits(p, back, "encode(decode(0x" + Integer.toHexString(p) + ") = " + v + ")");
            }
        }
        f.assertNone();
        assertEquals(0x00, enc(fmt, 0.0f));
        assertEquals(0x80, enc(fmt, -0.0f));
    }

    @Test
    void e4m3fnEncodeOfDecodeIsIdentity() {
        checkRoundTrip(Float8Format.E4M3FN);
    }

    @Test
    void e5m2EncodeOfDecodeIsIdentity() {
        checkRoundTrip(Float8Format.E5M2);
    }

    @Test
    void e4m3fnTiesToEven() {
        FormatChecks.checkMidpoints("e4m3fn", FormatChecks.positiveTable(ReferenceFormats::e4m3fn, 0x7E),
                0x80, v -> enc(Float8Format.E4M3FN, v));
        // A few by hand: subnormal/normal boundary 7*2^-9 | 8*2^-9 -> 0x08; 0.5 + 1/32 sits between 0x30 and 0x31.
        assertEquals(0x08, enc(Float8Format.E4M3FN, 7.5f * 0x1p-9f));
        assertEquals(0x30, enc(Float8Format.E4M3FN, 0.53125f));
        assertEquals(0x32, enc(Float8Format.E4M3FN, 0.59375f));
        assertEquals(0x7E, enc(Float8Format.E4M3FN, 432f)); // 416 | 448 -> 448 (0x7E even)
        assertEquals(0x78, enc(Float8Format.E4M3FN, 248f)); // 240 | 256 -> 256 (0x78 even)
    }

    @Test
    void e5m2TiesToEven() {
        FormatChecks.checkMidpoints("e5m2", FormatChecks.positiveTable(ReferenceFormats::e5m2, 0x7B),
                0x80, v -> enc(Float8Format.E5M2, v));
        assertEquals(0x04, enc(Float8Format.E5M2, 3.5f * 0x1p-16f)); // subnormal 3 | normal 4 -> 4
        assertEquals(0x02, enc(Float8Format.E5M2, 1.5f * 0x1p-16f));
        assertEquals(0x3C, enc(Float8Format.E5M2, 1.125f)); // 1 | 1.25 -> 1
        assertEquals(0x3E, enc(Float8Format.E5M2, 1.375f)); // 1.25 | 1.5 -> 1.5
    }

    @Test
    void e4m3fnSaturatesAndHasNoInfinity() {
        Float8Format f = Float8Format.E4M3FN;
        for (float v : new float[] {448f, Math.nextUp(448f), 449f, 463.9f, 464f, 480f, 1e6f, Float.MAX_VALUE, Float.POSITIVE_INFINITY}) {
            assertEquals(0x7E, enc(f, v), "encode(" + v + ")");
            assertEquals(0xFE, enc(f, -v), "encode(" + -v + ")");
        }
        assertEquals(448f, f.toFloat(f.fromFloat(Float.POSITIVE_INFINITY)));
        assertEquals(-448f, f.toFloat(f.fromFloat(Float.NEGATIVE_INFINITY)));
        assertEquals(0x7D, enc(f, Math.nextDown(432f)));
    }

    @Test
    void e5m2SaturatesFiniteButKeepsInfinity() {
        Float8Format f = Float8Format.E5M2;
        for (float v : new float[] {57344f, 57345f, Math.nextDown(61440f), 61440f, 65536f, 1e6f, Float.MAX_VALUE}) {
            assertEquals(0x7B, enc(f, v), "encode(" + v + ")");
            assertEquals(0xFB, enc(f, -v), "encode(" + -v + ")");
        }
        assertEquals(0x7C, enc(f, Float.POSITIVE_INFINITY));
        assertEquals(0xFC, enc(f, Float.NEGATIVE_INFINITY));
        assertEquals(Float.POSITIVE_INFINITY, f.toFloat(f.fromFloat(Float.POSITIVE_INFINITY)));
    }

    @Test
    void nanEncodesToNaN() {
        for (Float8Format f : Float8Format.values()) {
            for (int bits : new int[] {0x7FC00000, 0xFFC00000, 0x7F800001, 0x7FFFFFFF}) {
                float nan = Float.intBitsToFloat(bits);
                int p = enc(f, nan);
                assertTrue(Float.isNaN(dec(f, p)), f + ": encode(NaN 0x" + Integer.toHexString(bits) + ") = 0x" + Integer.toHexString(p));
            }
        }
    }

    @Test
    void tinyValuesRoundToSignedZero() {
        checkTiny(Float8Format.E4M3FN, 0x1p-9f);
        checkTiny(Float8Format.E5M2, 0x1p-16f);
    }

    private static void checkTiny(Float8Format f, float smallestSubnormal) {
        float half = smallestSubnormal / 2;
        for (float v : new float[] {half, Math.nextDown(half), half / 3, 1e-30f, Float.MIN_VALUE, Float.MIN_NORMAL}) {
            assertEquals(0x00, enc(f, v), f + ": encode(" + v + ")");
            assertEquals(0x80, enc(f, -v), f + ": encode(" + -v + ")");
        }
        assertEquals(0x01, enc(f, Math.nextUp(half)));
        assertEquals(0x81, enc(f, -Math.nextUp(half)));
        assertEquals(0x01, enc(f, smallestSubnormal));
    }

    @Test
    void randomFloatsMatchReferenceRounding() {
        long seed = FormatChecks.seed("Float8FormatTest.randomFloatsMatchReferenceRounding");
        FormatChecks.checkRandom("e4m3fn", seed, 500_000,
                FormatChecks.positiveTable(ReferenceFormats::e4m3fn, 0x7E), 0x80, -1,
                Overflow.SATURATE, v -> enc(Float8Format.E4M3FN, v));
        FormatChecks.checkRandom("e5m2", seed + 1, 500_000,
                FormatChecks.positiveTable(ReferenceFormats::e5m2, 0x7B), 0x80, 0x7C,
                Overflow.SATURATE, v -> enc(Float8Format.E5M2, v));
    }

    /**
     * {@code round} against decode-of-encode, bit for bit: every f32 exponent, the top twelve
     * mantissa bits in every combination (the kept bits, the rounding bit and the upper sticky
     * bits of both formats and of every subnormal quantum) with the low bits empty, one, or full,
     * both signs; then random bit patterns.
     */
    @Test
    void roundIsTheDecodedEncodingForEveryRoundingCase() {
        long seed = FormatChecks.seed("Float8FormatTest.roundIsTheDecodedEncodingForEveryRoundingCase");
        SplittableRandom random = new SplittableRandom(seed);
        for (Float8Format f : Float8Format.values()) {
            Failures failures = new Failures(f + " round");
            int[] lows = {0, 1, 0x3FF, 0x400, 0x7FF};
            for (int sign = 0; sign < 2; sign++) {
                for (int e = 0; e < 256; e++) {
                    for (int hi = 0; hi < 4096; hi++) {
                        for (int lo : lows) {
                            checkRound(f, sign << 31 | e << 23 | hi << 11 | lo, failures);
                        }
                    }
                }
            }
            for (int i = 0; i < 1_000_000; i++) {
                checkRound(f, random.nextInt(), failures);
            }
            failures.assertNone();
        }
    }

    private static void checkRound(Float8Format f, int bits, Failures failures) {
        float v = Float.intBitsToFloat(bits);
        float expected = f.toFloat(f.fromFloat(v));
        float actual = f.round(v);
        boolean same = Float.isNaN(expected) ? Float.isNaN(actual)
                : Float.floatToRawIntBits(expected) == Float.floatToRawIntBits(actual);
        if (!same) { // the message only for a failure: this runs twenty million times
            failures.check(false, "0x" + Integer.toHexString(bits) + " (" + v + "): expected " + expected + " got " + actual);
        }
    }

    @Test
    void decodedTableAgreesWithArraysOfReference() {
        float[] expected = new float[256];
        float[] actual = Float8Format.E5M2.decodeTable();
        for (int p = 0; p < 256; p++) {
            expected[p] = (float) ReferenceFormats.e5m2(p);
        }
        assertArrayEquals(expected, actual); // assertArrayEquals treats NaN == NaN
    }
}

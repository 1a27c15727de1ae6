package dev.tornadonn.core.numeric;

import static dev.tornadonn.core.numeric.FormatChecks.sameDouble;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tornadonn.core.numeric.FormatChecks.Failures;
import dev.tornadonn.core.numeric.FormatChecks.Overflow;
import org.junit.jupiter.api.Test;

class Float16Test {
    private static final int SIGN = 0x8000;
    private static final int MAX_FINITE = 0x7BFF;
    private static final int INF = 0x7C00;

    private static int enc(float v) {
        return Float16.fromFloat(v) & 0xFFFF;
    }

    private static boolean isNaNPattern(int p) {
        return ((p >>> 10) & 0x1F) == 0x1F && (p & 0x3FF) != 0;
    }

    @Test
    void referenceDecodeKnownValues() {
        assertEquals(1.0, ReferenceFormats.fp16(0x3C00));
        assertEquals(-2.0, ReferenceFormats.fp16(0xC000));
        assertEquals(65504.0, ReferenceFormats.fp16(MAX_FINITE));
        assertEquals(5.9604644775390625E-8, ReferenceFormats.fp16(0x0001));
        assertEquals(0x1p-14, ReferenceFormats.fp16(0x0400));
        assertEquals(1023 * 0x1p-24, ReferenceFormats.fp16(0x03FF));
        assertTrue(sameDouble(-0.0, ReferenceFormats.fp16(0x8000)));
        assertEquals(65504f, Float16.MAX);
    }

    @Test
    void decodesEveryPatternExactly() {
        Failures f = new Failures("fp16 decode");
        for (int p = 0; p < 0x10000; p++) {
            double expected = ReferenceFormats.fp16(p);
            float actual = Float16.toFloat((short) p);
            f.check(sameDouble(expected, actual), "0x" + Integer.toHexString(p) + ": expected " + expected + " got " + actual);
        }
        f.assertNone();
    }

    @Test
    void encodeOfDecodeIsIdentityAndNaNsStayNaN() {
        Failures f = new Failures("fp16 roundtrip");
        int nanPatterns = 0;
        for (int p = 0; p < 0x10000; p++) {
            int back = enc(Float16.toFloat((short) p));
            if (isNaNPattern(p)) {
                nanPatterns++;
                f.check(isNaNPattern(back), "NaN 0x" + Integer.toHexString(p) + " encoded back to 0x" + Integer.toHexString(back));
            } else {
                f.expectBits(p, back, "encode(decode(0x" + Integer.toHexString(p) + "))");
            }
        }
        f.assertNone();
        assertEquals(2 * 1023, nanPatterns);
        assertTrue(isNaNPattern(enc(Float.NaN)));
        assertTrue(isNaNPattern(enc(Float.intBitsToFloat(0x7F800001))));
        assertTrue(isNaNPattern(enc(Float.intBitsToFloat(0xFFC00000))));
    }

    @Test
    void tiesToEvenAtEveryMidpoint() {
        FormatChecks.checkMidpoints("fp16", FormatChecks.positiveTable(ReferenceFormats::fp16, MAX_FINITE),
                SIGN, Float16Test::enc);
    }

    @Test
    void subnormals() {
        assertEquals(0x0001, enc(0x1p-24f));
        assertEquals(0x03FF, enc(1023 * 0x1p-24f));
        assertEquals(0x0400, enc(0x1p-14f));
        assertEquals(0x0400, enc(1023.5f * 0x1p-24f)); // tie at the subnormal/normal boundary -> even (0x400)
        assertEquals(0x0000, enc(0x1p-25f)); // half the smallest subnormal: tie -> +0
        assertEquals(0x8000, enc(-0x1p-25f));
        assertEquals(0x0001, enc(Math.nextUp(0x1p-25f)));
        assertEquals(0x0002, enc(1.5f * 0x1p-24f)); // tie between 1 and 2 -> 2
        assertEquals(0x0002, enc(2.5f * 0x1p-24f)); // tie between 2 and 3 -> 2
        assertEquals(0x0000, enc(1e-10f));
        assertEquals(0x8000, enc(-1e-10f));
        assertEquals(0x8000, enc(-0.0f));
    }

    @Test
    void overflow() {
        assertEquals(INF, enc(65520f)); // 65504 + half an ulp (16): tie, max is odd -> infinity
        assertEquals(MAX_FINITE, enc(65519.99f));
        assertEquals(MAX_FINITE, enc(Math.nextDown(65520f)));
        assertEquals(MAX_FINITE, enc(65504f));
        assertEquals(INF, enc(1e6f));
        assertEquals(INF, enc(Float.MAX_VALUE));
        assertEquals(INF, enc(Float.POSITIVE_INFINITY));
        assertEquals(SIGN | INF, enc(-65520f));
        assertEquals(SIGN | MAX_FINITE, enc(-65519.99f));
        assertEquals(SIGN | INF, enc(Float.NEGATIVE_INFINITY));
        assertEquals(Float.POSITIVE_INFINITY, Float16.toFloat(Float16.fromFloat(65520f)));
        assertEquals(65504f, Float16.toFloat(Float16.fromFloat(65519.99f)));
    }

    @Test
    void randomFloatsMatchReferenceRounding() {
        long seed = FormatChecks.seed("Float16Test.randomFloatsMatchReferenceRounding");
        FormatChecks.checkRandom("fp16", seed, 1_000_000,
                FormatChecks.positiveTable(ReferenceFormats::fp16, MAX_FINITE), SIGN, INF,
                Overflow.TO_INFINITY, Float16Test::enc);
    }
}

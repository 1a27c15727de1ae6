package dev.tornadonn.core.numeric;

import static dev.tornadonn.core.numeric.FormatChecks.sameDouble;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tornadonn.core.numeric.FormatChecks.Failures;
import dev.tornadonn.core.numeric.FormatChecks.Overflow;
import org.junit.jupiter.api.Test;

class BFloat16Test {
    private static final int SIGN = 0x8000;
    private static final int MAX_FINITE = 0x7F7F;
    private static final int INF = 0x7F80;

    private static int enc(float v) {
        return BFloat16.fromFloat(v) & 0xFFFF;
    }

    private static boolean isNaNPattern(int p) {
        return ((p >>> 7) & 0xFF) == 0xFF && (p & 0x7F) != 0;
    }

    @Test
    void referenceDecodeKnownValues() {
        assertEquals(1.0, ReferenceFormats.bf16(0x3F80));
        assertEquals(-2.0, ReferenceFormats.bf16(0xC000));
        assertEquals(3.140625, ReferenceFormats.bf16(0x4049));
        assertEquals(3.3895313892515355E38, ReferenceFormats.bf16(MAX_FINITE));
        assertEquals(0x1p-133, ReferenceFormats.bf16(0x0001));
        assertEquals(0x1p-126, ReferenceFormats.bf16(0x0080));
        assertTrue(sameDouble(-0.0, ReferenceFormats.bf16(0x8000)));
    }

    @Test
    void decodesEveryPatternExactly() {
        Failures f = new Failures("bf16 decode");
        for (int p = 0; p < 0x10000; p++) {
            double expected = ReferenceFormats.bf16(p);
            float actual = BFloat16.toFloat((short) p);
            f.check(sameDouble(expected, actual), "0x" + Integer.toHexString(p) + ": expected " + expected + " got " + actual);
        }
        f.assertNone();
        assertEquals(1.0f, BFloat16.toFloat((short) 0x3F80));
        assertEquals(Float.POSITIVE_INFINITY, BFloat16.toFloat((short) INF));
        assertEquals(Float.NEGATIVE_INFINITY, BFloat16.toFloat((short) 0xFF80));
    }

    @Test
    void encodeOfDecodeIsIdentityAndNaNsStayNaN() {
        Failures f = new Failures("bf16 roundtrip");
        int nanPatterns = 0;
        for (int p = 0; p < 0x10000; p++) {
            int back = enc(BFloat16.toFloat((short) p));
            if (isNaNPattern(p)) {
                nanPatterns++;
                f.check(isNaNPattern(back), "NaN 0x" + Integer.toHexString(p) + " encoded back to non-NaN 0x" + Integer.toHexString(back));
                f.check((back & SIGN) == (p & SIGN), "NaN 0x" + Integer.toHexString(p) + " lost its sign: 0x" + Integer.toHexString(back));
            } else {
                f.expectBits(p, back, "encode(decode(0x" + Integer.toHexString(p) + "))");
            }
        }
        f.assertNone();
        assertEquals(2 * 127, nanPatterns);
    }

    @Test
    void nanInputsWithAnyPayloadEncodeToNaN() {
        // Payload bits only in the low half: plain truncation would turn these into infinity.
        int[] nans = {0x7F800001, 0x7FC00000, 0x7F80FFFF, 0x7FFFFFFF, 0xFF800001, 0xFFC00000, 0x7F808000};
        for (int bits : nans) {
            float nan = Float.intBitsToFloat(bits);
            int p = enc(nan);
            assertTrue(isNaNPattern(p), "0x" + Integer.toHexString(bits) + " -> 0x" + Integer.toHexString(p));
            assertEquals(bits >>> 31, p >>> 15, "sign of NaN 0x" + Integer.toHexString(bits));
            assertTrue(Float.isNaN(BFloat16.toFloat((short) p)));
        }
    }

    @Test
    void tiesToEvenAtEveryMidpoint() {
        FormatChecks.checkMidpoints("bf16", FormatChecks.positiveTable(ReferenceFormats::bf16, MAX_FINITE),
                SIGN, BFloat16Test::enc);
    }

    @Test
    void knownRoundings() {
        assertEquals(0x3F80, enc(1.00390625f)); // 1 + 2^-8: tie between 0x3F80 and 0x3F81 -> even
        assertEquals(0x3F82, enc(1.01171875f)); // 1 + 3*2^-8: tie between 0x3F81 and 0x3F82 -> even
        assertEquals(0x3F81, enc(Math.nextUp(1.00390625f)));
        assertEquals(0x4049, enc((float) Math.PI)); // 3.14159274 -> 3.140625
        assertEquals(0x0000, enc(0x1p-134f)); // half the smallest subnormal -> +0
        assertEquals(0x8000, enc(-0x1p-134f));
        assertEquals(0x0001, enc(Math.nextUp(0x1p-134f)));
        assertEquals(0x0000, enc(Float.MIN_VALUE));
        assertEquals(0x8000, enc(-Float.MIN_VALUE));
        assertEquals(0x8000, enc(-0.0f));
    }

    @Test
    void overflowRoundsToInfinityFromMaxPlusHalfUlp() {
        float max = (float) ReferenceFormats.bf16(MAX_FINITE);
        // max = (2^8 - 1) * 2^120; half an ulp is 2^119, and max's mantissa is odd so the tie goes up.
        float tie = (float) (max + 0x1p119);
        assertEquals(max + 0x1p119, tie, 0.0);
        assertEquals(INF, enc(tie));
        assertEquals(INF, enc(Math.nextUp(tie)));
        assertEquals(INF, enc(Float.MAX_VALUE));
        assertEquals(INF, enc(Float.POSITIVE_INFINITY));
        assertEquals(MAX_FINITE, enc(Math.nextDown(tie)));
        assertEquals(MAX_FINITE, enc(max));
        assertEquals(SIGN | INF, enc(-tie));
        assertEquals(SIGN | INF, enc(-Float.MAX_VALUE));
        assertEquals(SIGN | INF, enc(Float.NEGATIVE_INFINITY));
        assertEquals(SIGN | MAX_FINITE, enc(-Math.nextDown(tie)));
    }

    @Test
    void randomFloatsMatchReferenceRounding() {
        long seed = FormatChecks.seed("BFloat16Test.randomFloatsMatchReferenceRounding");
        FormatChecks.checkRandom("bf16", seed, 1_000_000,
                FormatChecks.positiveTable(ReferenceFormats::bf16, MAX_FINITE), SIGN, INF,
                Overflow.TO_INFINITY, BFloat16Test::enc);
    }
}

package dev.tornadonn.twins;

import dev.tornadonn.core.ConfigException;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.numeric.BFloat16;
import dev.tornadonn.core.numeric.Float16;
import org.junit.jupiter.api.Test;

/** The arithmetic decode against the bit-level one, for every pattern of both formats. */
class HalfDecodeTest {
    private static final float[] POWERS = HalfDecode.powerTable();

    @Test
    void everyBf16PatternDecodesExactly() {
        for (int b = 0; b < 1 << 16; b++) {
            float expected = Float.intBitsToFloat(b << 16);
            assertSame(expected, decode(b, WeightFormat.BF16), "bf16 0x" + Integer.toHexString(b));
            assertSame(BFloat16.toFloat((short) b), decode(b, WeightFormat.BF16), "bf16 0x" + Integer.toHexString(b));
        }
    }

    @Test
    void everyFp16PatternDecodesExactly() {
        for (int b = 0; b < 1 << 16; b++) {
            assertSame(Float.float16ToFloat((short) b), decode(b, WeightFormat.F16), "fp16 0x" + Integer.toHexString(b));
            assertSame(Float16.toFloat((short) b), decode(b, WeightFormat.F16), "fp16 0x" + Integer.toHexString(b));
        }
    }

    @Test
    void signExtendedShortsDecodeLikeTheirLow16Bits() {
        // A ShortArray element reaches the kernel sign-extended to int.
        for (int b : new int[] {0x8000, 0x8001, 0xBF80, 0xFC00, 0xFFFF}) {
            assertSame(decode(b, WeightFormat.BF16), decode((short) b, WeightFormat.BF16), "bf16");
            assertSame(decode(b, WeightFormat.F16), decode((short) b, WeightFormat.F16), "fp16");
        }
    }

    @Test
    void formatCodesFollowTheDtype() {
        assertEquals(WeightFormat.F32, WeightFormat.of(DType.F32));
        assertEquals(WeightFormat.BF16, WeightFormat.of(DType.BF16));
        assertEquals(WeightFormat.F16, WeightFormat.of(DType.F16));
        var e = org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class, () -> WeightFormat.of(DType.I32));
        assertTrue(e.getMessage().contains("I32"), e.getMessage());
    }

    private static float decode(int bits, int format) {
        return HalfDecode.value(bits, format, POWERS[HalfDecode.tableIndex(bits, format)]);
    }

    /** Bit-identical, except that any NaN matches any NaN. */
    private static void assertSame(float expected, float actual, String what) {
        if (Float.isNaN(expected)) {
            assertTrue(Float.isNaN(actual), what + ": expected NaN, got " + actual);
        } else {
            assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(actual),
                    what + ": expected " + expected + ", got " + actual);
        }
    }
}

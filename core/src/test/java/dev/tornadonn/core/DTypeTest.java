package dev.tornadonn.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tornadonn.core.numeric.ReferenceFormats;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

class DTypeTest {

    private static MemorySegment bytes(int... b) {
        MemorySegment s = Arena.ofAuto().allocate(b.length);
        for (int i = 0; i < b.length; i++) {
            s.set(ValueLayout.JAVA_BYTE, i, (byte) b[i]);
        }
        return s;
    }

    private static int[] read(MemorySegment s) {
        byte[] b = s.toArray(ValueLayout.JAVA_BYTE);
        int[] out = new int[b.length];
        for (int i = 0; i < b.length; i++) {
            out[i] = b[i] & 0xFF;
        }
        return out;
    }

    private static MemorySegment zeros(DType t, int n) {
        return Arena.ofAuto().allocate((long) n * t.byteSize());
    }

    /** setFloat writes exactly these little-endian bytes, and getFloat reads the value back. */
    private static void expectStored(DType t, float value, int... le) {
        MemorySegment s = zeros(t, 2);
        t.setFloat(s, 1, value); // element 1, so the byte offset is exercised too
        int[] expected = new int[2 * t.byteSize()];
        System.arraycopy(le, 0, expected, t.byteSize(), le.length);
        assertArrayEquals(expected, read(s), t + ".setFloat(" + value + ")");
        assertEquals(value, t.getFloat(s, 1), 0.0f, t + ".getFloat");
        assertEquals(0f, t.getFloat(s, 0), 0.0f);
    }

    @ParameterizedTest
    @CsvSource({
        "F32, 4, true", "F16, 2, true", "BF16, 2, true", "F8_E4M3FN, 1, true", "F8_E5M2, 1, true",
        "I8, 1, false", "U8, 1, false", "I32, 4, false", "I64, 8, false",
    })
    void byteSizeAndKind(DType t, int size, boolean fp) {
        assertEquals(size, t.byteSize());
        assertEquals(fp, t.isFloatingPoint());
    }

    @ParameterizedTest
    @CsvSource({
        "F32, F32", "F16, F16", "BF16, BF16", "F8_E4M3, F8_E4M3FN", "F8_E4M3FN, F8_E4M3FN",
        "F8_E5M2, F8_E5M2", "I8, I8", "U8, U8", "I32, I32", "I64, I64",
    })
    void fromSafetensorsNames(String name, DType expected) {
        assertSame(expected, DType.fromSafetensors(name));
    }

    @Test
    void safetensorsNamesRoundTrip() {
        assertEquals("F8_E4M3", DType.F8_E4M3FN.safetensorsName());
        assertEquals("F8_E5M2", DType.F8_E5M2.safetensorsName());
        for (DType t : DType.values()) {
            assertSame(t, DType.fromSafetensors(t.safetensorsName()));
        }
    }

    @Test
    void unknownSafetensorsNameIsRejectedWithTheSupportedList() {
        for (String bad : new String[] {"F64", "f32", "BOOL", "", "F8_E4M3FNUZ"}) {
            ConfigException e = assertThrows(ConfigException.class, () -> DType.fromSafetensors(bad));
            assertTrue(e.getMessage().contains("'" + bad + "'"), e.getMessage());
            for (DType t : DType.values()) {
                assertTrue(e.getMessage().contains(t.safetensorsName()), e.getMessage());
            }
        }
    }

    @Test
    void parseIgnoresCase() {
        assertSame(DType.BF16, DType.parse("bf16"));
        assertSame(DType.F32, DType.parse("f32"));
        assertSame(DType.F8_E4M3FN, DType.parse("f8_e4m3"));
        assertSame(DType.F8_E4M3FN, DType.parse("F8_e4m3fn"));
        assertThrows(ConfigException.class, () -> DType.parse("float32"));
    }

    @Test
    void littleEndianLayoutOfEveryDType() {
        expectStored(DType.F32, 1.0f, 0x00, 0x00, 0x80, 0x3F);
        expectStored(DType.F32, -2.5f, 0x00, 0x00, 0x20, 0xC0);
        expectStored(DType.F16, 1.0f, 0x00, 0x3C);
        expectStored(DType.F16, -65504f, 0xFF, 0xFB);
        expectStored(DType.F16, 0x1p-24f, 0x01, 0x00);
        expectStored(DType.BF16, 1.0f, 0x80, 0x3F);
        expectStored(DType.BF16, -3.140625f, 0x49, 0xC0);
        expectStored(DType.F8_E4M3FN, 1.0f, 0x38);
        expectStored(DType.F8_E4M3FN, -448f, 0xFE);
        expectStored(DType.F8_E4M3FN, 0x1p-9f, 0x01);
        expectStored(DType.F8_E5M2, 1.0f, 0x3C);
        expectStored(DType.F8_E5M2, -57344f, 0xFB);
        expectStored(DType.F8_E5M2, Float.POSITIVE_INFINITY, 0x7C);
        expectStored(DType.I8, -5f, 0xFB);
        expectStored(DType.I8, -128f, 0x80);
        expectStored(DType.I8, 127f, 0x7F);
        expectStored(DType.U8, 200f, 0xC8);
        expectStored(DType.U8, 255f, 0xFF);
        expectStored(DType.I32, -123456f, 0xC0, 0x1D, 0xFE, 0xFF);
        expectStored(DType.I32, 0x1p24f, 0x00, 0x00, 0x00, 0x01);
        expectStored(DType.I32, -0x1p31f, 0x00, 0x00, 0x00, 0x80);
        expectStored(DType.I32, 2147483520f, 0x80, 0xFF, 0xFF, 0x7F); // largest float below 2^31
        expectStored(DType.I64, 0x1p40f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00);
        expectStored(DType.I64, -1f, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF);
        expectStored(DType.I64, -0x1p63f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80);
    }

    @Test
    void integerReadsAreExact() {
        assertEquals(-1f, DType.I8.getFloat(bytes(0xFF), 0));
        assertEquals(255f, DType.U8.getFloat(bytes(0xFF), 0));
        assertEquals(128f, DType.U8.getFloat(bytes(0x80), 0));
        assertEquals(-128f, DType.I8.getFloat(bytes(0x80), 0));
        assertEquals(16777215f, DType.I32.getFloat(bytes(0xFF, 0xFF, 0xFF, 0x00), 0));
        assertEquals(-0x1p31f, DType.I32.getFloat(bytes(0x00, 0x00, 0x00, 0x80), 0));
        assertEquals(0x1p62f, DType.I64.getFloat(bytes(0, 0, 0, 0, 0, 0, 0, 0x40), 0));
        // Every I8/U8 value.
        for (int v = -128; v < 128; v++) {
            assertEquals(v, DType.I8.getFloat(bytes(v & 0xFF), 0));
            assertEquals(v & 0xFF, DType.U8.getFloat(bytes(v & 0xFF), 0));
        }
    }

    @ParameterizedTest
    @CsvSource({
        "I8, 128", "I8, -129", "I8, 0.5", "I8, 1e10",
        "U8, -1", "U8, 256", "U8, 254.5",
        "I32, 2147483648", "I32, -2147483904", "I32, 1.5", "I32, 1e20",
        "I64, 9223372036854775808", "I64, -9223373136366403584", "I64, 0.25", "I64, 1e30",
    })
    void integerSetFloatRejectsUnrepresentableValues(DType t, float value) {
        MemorySegment s = zeros(t, 1);
        ConfigException e = assertThrows(ConfigException.class, () -> t.setFloat(s, 0, value),
                t + ".setFloat(" + value + ") must throw");
        assertTrue(e.getMessage().contains(t.toString()), e.getMessage());
        assertArrayEquals(new int[t.byteSize()], read(s), "nothing may be written");
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"I8", "U8", "I32", "I64"})
    void integerSetFloatRejectsNaNAndInfinities(DType t) {
        MemorySegment s = zeros(t, 1);
        for (float v : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
            assertThrows(ConfigException.class, () -> t.setFloat(s, 0, v), t + ".setFloat(" + v + ")");
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"I8", "U8", "I32", "I64"})
    void integerRoundIsUnsupported(DType t) {
        assertThrows(UnsupportedOperationException.class, () -> t.round(1f));
        assertFalse(t.isFloatingPoint());
    }

    @Test
    void roundForFloatingTypes() {
        float x = 1.00390625f; // 1 + 2^-8
        assertEquals(x, DType.F32.round(x));
        assertEquals(1.00390625f, DType.F16.round(x)); // representable in fp16 (10 mantissa bits)
        assertEquals(1.0f, DType.BF16.round(x)); // tie -> even
        assertEquals(1.0078125f, DType.BF16.round(Math.nextUp(x)));
        assertEquals(1.0f, DType.F8_E4M3FN.round(1.0625f)); // tie between 1 and 1.125 -> 1
        assertEquals(1.25f, DType.F8_E4M3FN.round(1.1875f)); // tie between 1.125 and 1.25 -> 1.25
        assertEquals(1.0f, DType.F8_E5M2.round(1.125f)); // tie between 1 and 1.25 -> 1
        assertEquals(448f, DType.F8_E4M3FN.round(1e9f));
        assertEquals(57344f, DType.F8_E5M2.round(1e9f));
        assertEquals(Float.POSITIVE_INFINITY, DType.F16.round(65520f));
        assertEquals(65504f, DType.F16.round(65519f));
        assertEquals(Float.POSITIVE_INFINITY, DType.BF16.round(Float.MAX_VALUE));
        assertTrue(Float.isNaN(DType.F8_E4M3FN.round(Float.NaN)));
        assertTrue(Float.isNaN(DType.BF16.round(Float.NaN)));
        assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(DType.F8_E5M2.round(-1e-30f)));
    }

    /** Whatever setFloat stores, getFloat returns round(value): the three agree for every floating dtype. */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16", "F8_E4M3FN", "F8_E5M2"})
    void setGetAgreesWithRound(DType t) {
        MemorySegment s = zeros(t, 1);
        float[] values = {0f, -0f, 1f, -1f, 0.1f, 3.3f, 1e-3f, 1e-7f, 100.7f, 300f, 460f, 1e5f, 7e4f, -1e38f,
                Float.MIN_VALUE, Float.MAX_VALUE, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
        for (float v : values) {
            t.setFloat(s, 0, v);
            assertEquals(Float.floatToIntBits(t.round(v)), Float.floatToIntBits(t.getFloat(s, 0)), t + " " + v);
        }
    }

    @Test
    void halfPrecisionGetFloatDecodesEveryPatternAndSetFloatRestoresIt() {
        for (DType t : new DType[] {DType.F16, DType.BF16}) {
            MemorySegment s = zeros(t, 1);
            MemorySegment back = zeros(t, 1);
            for (int p = 0; p < 0x10000; p++) {
                s.set(ValueLayout.JAVA_BYTE, 0, (byte) p);
                s.set(ValueLayout.JAVA_BYTE, 1, (byte) (p >>> 8));
                float v = t.getFloat(s, 0);
                double expected = t == DType.F16 ? ReferenceFormats.fp16(p)
                        : ReferenceFormats.bf16(p);
                if (Double.isNaN(expected)) {
                    assertTrue(Float.isNaN(v), t + " 0x" + Integer.toHexString(p));
                    continue;
                }
                assertEquals(Double.doubleToRawLongBits(expected), Double.doubleToRawLongBits(v), t + " 0x" + Integer.toHexString(p));
                t.setFloat(back, 0, v);
                assertEquals(p, (back.get(ValueLayout.JAVA_BYTE, 0) & 0xFF) | (back.get(ValueLayout.JAVA_BYTE, 1) & 0xFF) << 8,
                        t + " 0x" + Integer.toHexString(p));
            }
        }
    }

    @Test
    void fp8GetFloatDecodesEveryPatternAndSetFloatRestoresIt() {
        for (DType t : new DType[] {DType.F8_E4M3FN, DType.F8_E5M2}) {
            MemorySegment s = zeros(t, 256);
            MemorySegment back = zeros(t, 256);
            for (int p = 0; p < 256; p++) {
                s.set(ValueLayout.JAVA_BYTE, p, (byte) p);
            }
            for (int p = 0; p < 256; p++) {
                float v = t.getFloat(s, p);
                double expected = t == DType.F8_E4M3FN ? ReferenceFormats.e4m3fn(p)
                        : ReferenceFormats.e5m2(p);
                if (Double.isNaN(expected)) {
                    assertTrue(Float.isNaN(v), t + " 0x" + Integer.toHexString(p));
                    continue;
                }
                assertEquals(Double.doubleToRawLongBits(expected), Double.doubleToRawLongBits(v), t + " 0x" + Integer.toHexString(p));
                t.setFloat(back, p, v);
                assertEquals(p, back.get(ValueLayout.JAVA_BYTE, p) & 0xFF, t + " 0x" + Integer.toHexString(p));
            }
        }
    }
}

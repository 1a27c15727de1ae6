package dev.tornadonn.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class TensorTest {

    /** 0, 1, 2, ... as F32, in row-major order. */
    private static Tensor iota(int... dims) {
        Shape s = Shape.of(dims);
        float[] v = new float[(int) s.numel()];
        for (int i = 0; i < v.length; i++) {
            v[i] = i;
        }
        return Tensor.of(DType.F32, s, v);
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void allocateIsZeroFilledAndSized(DType t) {
        Tensor x = Tensor.allocate(t, Shape.of(3, 5, 7));
        assertEquals(3L * 5 * 7 * t.byteSize(), x.data().byteSize());
        for (byte b : x.data().toArray(ValueLayout.JAVA_BYTE)) {
            assertEquals(0, b);
        }
        assertEquals(DeviceRef.cpu(0), x.device());
        assertEquals(t, x.dtype());
        assertEquals(105, x.numel());
        assertEquals(0, x.data().address() % 64, "allocations are 64-byte aligned");
    }

    @Test
    void allocateEmptyAndScalar() {
        Tensor empty = Tensor.allocate(DType.F32, Shape.of(4, 0));
        assertEquals(0, empty.data().byteSize());
        assertEquals(0, empty.toFloatArray().length);
        Tensor scalar = Tensor.allocate(DType.BF16, Shape.of());
        assertEquals(2, scalar.data().byteSize());
        assertEquals(1, scalar.numel());
        Tensor onDevice = Tensor.allocate(DType.I8, Shape.of(2), DeviceRef.cpu(3));
        assertEquals(DeviceRef.cpu(3), onDevice.device());
    }

    @Test
    void ofStoresValuesLittleEndian() {
        Tensor t = Tensor.of(new float[] {1f, -2f, 0.5f, 3f, 4f, 5f}, 2, 3);
        assertEquals(Shape.of(2, 3), t.shape());
        assertEquals(DType.F32, t.dtype());
        assertArrayEquals(new float[] {1f, -2f, 0.5f, 3f, 4f, 5f}, t.toFloatArray());
        assertEquals(-2f, t.data().get(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 4));
        assertEquals((byte) 0x80, t.data().get(ValueLayout.JAVA_BYTE, 2)); // 1.0f = 00 00 80 3F
        assertEquals((byte) 0x3F, t.data().get(ValueLayout.JAVA_BYTE, 3));

        Tensor b = Tensor.of(DType.BF16, Shape.of(3), 1f, 1.00390625f, 3.0f);
        assertArrayEquals(new float[] {1f, 1f, 3f}, b.toFloatArray()); // 1 + 2^-8 ties to even
        assertEquals((short) 0x4040, b.data().get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 4));
    }

    @Test
    void ofRejectsWrongValueCount() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> Tensor.of(DType.F32, Shape.of(2, 3), 1f, 2f));
        assertTrue(e.getMessage().contains("(2, 3)"), e.getMessage());
        assertThrows(ConfigException.class, () -> Tensor.of(new float[7], 2, 3));
        assertThrows(ConfigException.class, () -> Tensor.of(DType.I32, Shape.of(1), 0.5f));
    }

    @Test
    void constructorRejectsWrongByteSize() {
        MemorySegment seg = Arena.ofAuto().allocate(23);
        ConfigException e = assertThrows(ConfigException.class,
                () -> new Tensor(Shape.of(2, 3), DType.F32, DeviceRef.cpu(0), seg));
        assertTrue(e.getMessage().contains("24") && e.getMessage().contains("23"), e.getMessage());
        assertTrue(e.getMessage().contains("(2, 3)") && e.getMessage().contains("F32"), e.getMessage());
        assertThrows(ConfigException.class,
                () -> new Tensor(Shape.of(2, 3), DType.BF16, DeviceRef.cpu(0), Arena.ofAuto().allocate(24)));
        assertThrows(NullPointerException.class, () -> new Tensor(null, DType.F32, DeviceRef.cpu(0), seg));
        Tensor ok = new Tensor(Shape.of(2, 3), DType.F32, DeviceRef.cpu(0), Arena.ofAuto().allocate(24));
        assertEquals(6, ok.numel());
    }

    @Test
    void sliceAlongAxisZeroIsAView() {
        Tensor t = iota(4, 3);
        Tensor rows = t.slice(0, 1, 3);
        assertEquals(Shape.of(2, 3), rows.shape());
        assertArrayEquals(new float[] {3, 4, 5, 6, 7, 8}, rows.toFloatArray());
        rows.setFloat(0, 100f);
        assertEquals(100f, t.getFloat(3), "a write through the slice shows in the parent");
        t.setFloat(8, -1f);
        assertEquals(-1f, rows.getFloat(5), "a write to the parent shows in the slice");
        assertEquals(0, t.slice(0, 2, 2).numel());
        assertArrayEquals(t.toFloatArray(), t.slice(0, 0, 4).toFloatArray());
    }

    @Test
    void sliceOnAnotherAxisCopiesTheRightElements() {
        int d0 = 2, d1 = 3, d2 = 4;
        Tensor t = iota(d0, d1, d2);
        Tensor s = t.slice(1, 1, 3);
        assertEquals(Shape.of(2, 2, 4), s.shape());
        float[] got = s.toFloatArray();
        int k = 0;
        for (int i = 0; i < d0; i++) {
            for (int j = 1; j < 3; j++) {
                for (int l = 0; l < d2; l++) {
                    assertEquals((i * d1 + j) * d2 + l, got[k++], "element [" + i + "," + j + "," + l + "]");
                }
            }
        }
        s.setFloat(0, -7f);
        assertEquals(1 * d2, t.getFloat(1 * d2), "a copy: the parent is unchanged");

        Tensor last = t.slice(2, 1, 2);
        assertEquals(Shape.of(2, 3, 1), last.shape());
        assertArrayEquals(new float[] {1, 5, 9, 13, 17, 21}, last.toFloatArray());
    }

    @Test
    void sliceWithUnitOuterDimensionsIsAView() {
        Tensor t = iota(1, 4, 2);
        Tensor s = t.slice(1, 2, 4);
        assertArrayEquals(new float[] {4, 5, 6, 7}, s.toFloatArray());
        s.setFloat(0, 42f);
        assertEquals(42f, t.getFloat(4));
    }

    @Test
    void sliceOfNarrowDTypes() {
        Tensor t = Tensor.of(DType.BF16, Shape.of(2, 3), 1, 2, 3, 4, 5, 6);
        assertArrayEquals(new float[] {2, 3, 5, 6}, t.slice(1, 1, 3).toFloatArray());
        Tensor i8 = Tensor.of(DType.I8, Shape.of(3, 2), 1, -2, 3, -4, 5, -6);
        assertArrayEquals(new float[] {-2, -4, -6}, i8.slice(1, 1, 2).toFloatArray());
    }

    @Test
    void sliceRejectsBadRanges() {
        Tensor t = iota(4, 3);
        assertThrows(ConfigException.class, () -> t.slice(2, 0, 1));
        assertThrows(ConfigException.class, () -> t.slice(-1, 0, 1));
        assertThrows(ConfigException.class, () -> t.slice(0, -1, 1));
        assertThrows(ConfigException.class, () -> t.slice(0, 3, 2));
        ConfigException e = assertThrows(ConfigException.class, () -> t.slice(1, 0, 4));
        assertTrue(e.getMessage().contains("(4, 3)"), e.getMessage());
    }

    @Test
    void reshapeIsAView() {
        Tensor t = iota(2, 3);
        Tensor r = t.reshape(3, 2);
        assertEquals(Shape.of(3, 2), r.shape());
        assertArrayEquals(t.toFloatArray(), r.toFloatArray());
        r.setFloat(5, 9f);
        assertEquals(9f, t.getFloat(5));
        assertEquals(Shape.of(6), t.reshape(Shape.of(6)).shape());
        assertEquals(Shape.of(1, 6, 1), t.reshape(1, 6, 1).shape());
        ConfigException e = assertThrows(ConfigException.class, () -> t.reshape(4, 2));
        assertTrue(e.getMessage().contains("(2, 3)") && e.getMessage().contains("(4, 2)"), e.getMessage());
    }

    @Test
    void toDTypeRoundsToNearestEven() {
        float[] v = {1f, 1.00390625f, 1.01171875f, 3.3f, -0.1f, 70000f, 500f, 1e-8f};
        // bf16: 70000 lies in [2^16, 2^17) where the step is 512, so 136.72 steps -> 137 * 512 = 70144.
        Tensor t = Tensor.of(v, v.length);
        assertArrayEquals(new float[] {1f, 1f, 1.015625f, 3.296875f, -0.10009765625f, 70144f, 500f, 172 * 0x1p-34f},
                t.toDType(DType.BF16).toFloatArray()); // 1e-8 = 1.342 * 2^-27 -> 172/128 * 2^-27
        // 3.3 -> fp16 3.30078125 (0x4299); 70000 overflows fp16 (max 65504 + half-ulp 16) to infinity.
        assertArrayEquals(new float[] {1f, 1.00390625f, 1.01171875f, 3.30078125f, -0.0999755859375f,
                Float.POSITIVE_INFINITY, 500f, 0f}, t.toDType(DType.F16).toFloatArray());
        // e4m3fn: 3.3 -> 3.25; 70000 and 500 saturate to 448; 1e-8 -> 0.
        assertArrayEquals(new float[] {1f, 1f, 1f, 3.25f, -0.1015625f, 448f, 448f, 0f},
                t.toDType(DType.F8_E4M3FN).toFloatArray());
        assertArrayEquals(new float[] {1f, 1f, 1f, 3.5f, -0.09375f, 57344f, 512f, 0f},
                t.toDType(DType.F8_E5M2).toFloatArray());
        Tensor bf = t.toDType(DType.BF16);
        assertEquals(DType.BF16, bf.dtype());
        assertEquals(t.shape(), bf.shape());
        assertEquals(t.device(), bf.device());
    }

    @Test
    void toDTypeIntegers() {
        Tensor t = Tensor.of(new float[] {-3f, 0f, 7f, 120f}, 4);
        assertArrayEquals(new float[] {-3f, 0f, 7f, 120f}, t.toDType(DType.I8).toFloatArray());
        assertArrayEquals(new float[] {-3f, 0f, 7f, 120f}, t.toDType(DType.I32).toDType(DType.I64).toFloatArray());
        assertThrows(ConfigException.class, () -> t.toDType(DType.U8)); // -3
        assertThrows(ConfigException.class, () -> Tensor.of(new float[] {0.5f}, 1).toDType(DType.I32));
    }

    @Test
    void toSameDTypeIsADistinctCopy() {
        Tensor t = iota(3);
        Tensor c = t.toDType(DType.F32);
        assertNotSame(t, c);
        c.setFloat(0, 5f);
        assertEquals(0f, t.getFloat(0));
        Tensor copy = t.copy();
        copy.setFloat(1, 5f);
        assertEquals(1f, t.getFloat(1));
        assertArrayEquals(new float[] {0, 5, 2}, copy.toFloatArray());
    }

    @Test
    void fillSetsEveryElementAndReturnsThis() {
        Tensor t = Tensor.allocate(DType.F32, Shape.of(5, 3));
        assertSame(t, t.fill(Float.NaN));
        for (float f : t.toFloatArray()) {
            assertTrue(Float.isNaN(f));
        }
        Tensor b = Tensor.allocate(DType.BF16, Shape.of(4)).fill(3.3f);
        assertArrayEquals(new float[] {3.296875f, 3.296875f, 3.296875f, 3.296875f}, b.toFloatArray());
        Tensor u8 = Tensor.allocate(DType.U8, Shape.of(3)).fill(255f);
        assertArrayEquals(new float[] {255, 255, 255}, u8.toFloatArray());
        assertThrows(ConfigException.class, () -> Tensor.allocate(DType.I8, Shape.of(2)).fill(200f));
        Tensor fp8 = Tensor.allocate(DType.F8_E4M3FN, Shape.of(2)).fill(Float.NaN);
        assertTrue(Float.isNaN(fp8.getFloat(0)) && Float.isNaN(fp8.getFloat(1)));
    }

    @Test
    void toSameDeviceReturnsTheSameObject() {
        Tensor t = iota(2);
        assertSame(t, t.to(DeviceRef.cpu(0)));
        Tensor on2 = Tensor.allocate(DType.F32, Shape.of(2), DeviceRef.cpu(2));
        assertSame(on2, on2.to(DeviceRef.parse("cpu:2")));
    }

    @Test
    void toGpuWithoutABackendNamesTornadoVM() {
        // core's test class path has no Backend implementation.
        TornadoNnException e = assertThrows(TornadoNnException.class, () -> iota(2).to(DeviceRef.gpu(0)));
        assertTrue(e.getMessage().contains("TornadoVM"), e.getMessage());
        assertTrue(e.getMessage().contains("gpu:0"), e.getMessage());
    }

    @Test
    void toAnotherCpuWithoutABackendNamesTheKernelsModule() {
        TornadoNnException e = assertThrows(TornadoNnException.class, () -> iota(2).to(DeviceRef.cpu(1)));
        assertTrue(e.getMessage().contains("cpu:1") && e.getMessage().contains("jvm-kernels"), e.getMessage());
    }

    @Test
    void toStringNamesDTypeShapeAndDevice() {
        assertEquals("Tensor(BF16, (2, 3), cpu:0)", Tensor.allocate(DType.BF16, Shape.of(2, 3)).toString());
    }

    @Test
    void integerConversionsAreExactBeyondFloatPrecision() {
        Tensor big = Tensor.ofInts(Shape.of(2), 16_777_217, -2_147_483_648);
        assertArrayEquals(new long[] {16_777_217L, -2_147_483_648L},
                new long[] {DType.I64.getLong(big.toDType(DType.I64).data(), 0), DType.I64.getLong(big.toDType(DType.I64).data(), 1)});
        assertThrows(ConfigException.class, () -> big.toDType(DType.I8));
    }
}

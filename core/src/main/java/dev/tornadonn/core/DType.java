package dev.tornadonn.core;

import dev.tornadonn.core.numeric.BFloat16;
import dev.tornadonn.core.numeric.Float16;
import dev.tornadonn.core.numeric.Float8Format;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Element types a tensor can hold, named as safetensors names them. All storage is little-endian,
 * as in safetensors files.
 */
public enum DType {
    F32(4, "F32", true),
    F16(2, "F16", true),
    BF16(2, "BF16", true),
    /** OCP e4m3 without infinities ({@code float8_e4m3fn}); safetensors calls it {@code F8_E4M3}. */
    F8_E4M3FN(1, "F8_E4M3", true),
    F8_E5M2(1, "F8_E5M2", true),
    I8(1, "I8", false),
    U8(1, "U8", false),
    I32(4, "I32", false),
    I64(8, "I64", false);

    static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt I32_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong I64_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);

    private final int byteSize;
    private final String safetensorsName;
    private final boolean floatingPoint;

    DType(int byteSize, String safetensorsName, boolean floatingPoint) {
        this.byteSize = byteSize;
        this.safetensorsName = safetensorsName;
        this.floatingPoint = floatingPoint;
    }

    public int byteSize() {
        return byteSize;
    }

    public String safetensorsName() {
        return safetensorsName;
    }

    public boolean isFloatingPoint() {
        return floatingPoint;
    }

    /** Parses a safetensors dtype string; also accepts this enum's own names (e.g. {@code F8_E4M3FN}). */
    public static DType fromSafetensors(String name) {
        for (DType t : values()) {
            if (t.safetensorsName.equals(name) || t.name().equals(name)) {
                return t;
            }
        }
        throw new ConfigException("unsupported dtype '" + name + "'; supported: "
                + Arrays.stream(values()).map(DType::safetensorsName).collect(Collectors.joining(", ")));
    }

    /** Parses a user-facing name such as {@code bf16}, {@code f32} or {@code F8_E4M3}, ignoring case. */
    public static DType parse(String name) {
        return fromSafetensors(name.toUpperCase(Locale.ROOT));
    }

    /** Reads element {@code index} and converts it exactly to float (integers above 2^24 round). */
    public float getFloat(MemorySegment segment, long index) {
        long at = index * byteSize;
        return switch (this) {
            case F32 -> segment.get(F32_LE, at);
            case F16 -> Float16.toFloat(segment.get(I16_LE, at));
            case BF16 -> BFloat16.toFloat(segment.get(I16_LE, at));
            case F8_E4M3FN -> Float8Format.E4M3FN.toFloat(segment.get(ValueLayout.JAVA_BYTE, at));
            case F8_E5M2 -> Float8Format.E5M2.toFloat(segment.get(ValueLayout.JAVA_BYTE, at));
            case I8 -> segment.get(ValueLayout.JAVA_BYTE, at);
            case U8 -> segment.get(ValueLayout.JAVA_BYTE, at) & 0xFF;
            case I32 -> segment.get(I32_LE, at);
            case I64 -> segment.get(I64_LE, at);
        };
    }

    /** Reads element {@code index} of an integer dtype exactly. */
    public long getLong(MemorySegment segment, long index) {
        long at = index * byteSize;
        return switch (this) {
            case I8 -> segment.get(ValueLayout.JAVA_BYTE, at);
            case U8 -> segment.get(ValueLayout.JAVA_BYTE, at) & 0xFF;
            case I32 -> segment.get(I32_LE, at);
            case I64 -> segment.get(I64_LE, at);
            default -> throw new UnsupportedOperationException(this + " is not an integer dtype");
        };
    }

    /** Stores an integer exactly as element {@code index}, or throws if this dtype cannot hold it. */
    public void setLong(MemorySegment segment, long index, long value) {
        long at = index * byteSize;
        switch (this) {
            case I8 -> segment.set(ValueLayout.JAVA_BYTE, at, (byte) inRange(value, Byte.MIN_VALUE, Byte.MAX_VALUE));
            case U8 -> segment.set(ValueLayout.JAVA_BYTE, at, (byte) inRange(value, 0, 255));
            case I32 -> segment.set(I32_LE, at, (int) inRange(value, Integer.MIN_VALUE, Integer.MAX_VALUE));
            case I64 -> segment.set(I64_LE, at, value);
            default -> throw new UnsupportedOperationException(this + " is not an integer dtype");
        }
    }

    private long inRange(long value, long min, long max) {
        if (value < min || value > max) {
            throw new ConfigException(value + " is not representable as " + this);
        }
        return value;
    }

    /**
     * Stores {@code value} as element {@code index}: floating types round to nearest even (fp8
     * saturates); integer types require an exactly representable integer.
     */
    public void setFloat(MemorySegment segment, long index, float value) {
        long at = index * byteSize;
        switch (this) {
            case F32 -> segment.set(F32_LE, at, value);
            case F16 -> segment.set(I16_LE, at, Float16.fromFloat(value));
            case BF16 -> segment.set(I16_LE, at, BFloat16.fromFloat(value));
            case F8_E4M3FN -> segment.set(ValueLayout.JAVA_BYTE, at, Float8Format.E4M3FN.fromFloat(value));
            case F8_E5M2 -> segment.set(ValueLayout.JAVA_BYTE, at, Float8Format.E5M2.fromFloat(value));
            case I8 -> segment.set(ValueLayout.JAVA_BYTE, at, (byte) exactInteger(value, Byte.MIN_VALUE, Byte.MAX_VALUE));
            case U8 -> segment.set(ValueLayout.JAVA_BYTE, at, (byte) exactInteger(value, 0, 255));
            case I32 -> segment.set(I32_LE, at, (int) exactInteger(value, Integer.MIN_VALUE, Integer.MAX_VALUE));
            case I64 -> segment.set(I64_LE, at, exactInteger(value, Long.MIN_VALUE, Long.MAX_VALUE));
        }
    }

    /** Rounds {@code value} to this floating type and back: what storing it would keep. */
    public float round(float value) {
        return switch (this) {
            case F32 -> value;
            case F16 -> Float16.toFloat(Float16.fromFloat(value));
            case BF16 -> BFloat16.toFloat(BFloat16.fromFloat(value));
            case F8_E4M3FN -> Float8Format.E4M3FN.toFloat(Float8Format.E4M3FN.fromFloat(value));
            case F8_E5M2 -> Float8Format.E5M2.toFloat(Float8Format.E5M2.fromFloat(value));
            default -> throw new UnsupportedOperationException(this + " is not a floating-point dtype");
        };
    }

    private long exactInteger(float value, long min, long max) {
        // Compare in double against max + 1: as a float, Integer.MAX_VALUE and Long.MAX_VALUE round up
        // to 2^31 and 2^63, so `value > max` would let those through (2^31 wrapped to Integer.MIN_VALUE).
        if (value != Math.rint(value) || value < (double) min || value >= (double) max + 1.0) {
            throw new ConfigException(value + " is not representable as " + this);
        }
        return (long) value;
    }
}

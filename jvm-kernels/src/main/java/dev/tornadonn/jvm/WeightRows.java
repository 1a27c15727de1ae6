package dev.tornadonn.jvm;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Exact decoding of a weight row's elements into floats, for the scalar kernels and for packing. */
final class WeightRows {
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private WeightRows() {}

    /** Decodes {@code w[row, from .. from+len)} of a {@code (·, k)} weight into {@code out[0 .. len)}. */
    static void decode(MemorySegment w, DType type, int k, int row, int from, int len, float[] out) {
        long base = ((long) row * k + from) * type.byteSize();
        switch (type) {
            case F32 -> MemorySegment.copy(w, F32, base, out, 0, len);
            case BF16 -> {
                for (int i = 0; i < len; i++) {
                    out[i] = Float.intBitsToFloat((w.get(I16, base + 2L * i) & 0xFFFF) << 16);
                }
            }
            case F16 -> {
                for (int i = 0; i < len; i++) {
                    out[i] = Float.float16ToFloat(w.get(I16, base + 2L * i));
                }
            }
            default -> throw new ConfigException("JVM kernels take F32, BF16 or F16 weights, not " + type);
        }
    }
}

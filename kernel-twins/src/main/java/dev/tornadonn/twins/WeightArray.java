package dev.tornadonn.twins;

/**
 * A weight as the device holds it: f32 values, or bf16/fp16 bits decoded on every read with
 * {@link HalfDecode}, exactly as the kernels decode them.
 */
public record WeightArray(int format, float[] f32, short[] half, float[] powers) {

    public static WeightArray ofF32(float[] values) {
        return new WeightArray(WeightFormat.F32, values, null, null);
    }

    public static WeightArray ofHalf(int format, short[] bits) {
        return new WeightArray(format, null, bits, HalfDecode.powerTable());
    }

    public float get(int i) {
        if (format == WeightFormat.F32) {
            return f32[i];
        }
        int bits = half[i];
        return HalfDecode.value(bits, format, powers[HalfDecode.tableIndex(bits, format)]);
    }
}

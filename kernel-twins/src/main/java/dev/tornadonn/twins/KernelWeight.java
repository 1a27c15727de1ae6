package dev.tornadonn.twins;

/**
 * A weight in the arrays the device kernels read, and its plain-Java decode: one record for every
 * format, because one GEMV and one GEMM kernel read them all. f32 values ({@code f32}), bf16/fp16
 * bits ({@code half}, with {@link HalfDecode#powerTable} as {@code table}) or packed codes
 * ({@code codes}, laid out as {@link QuantLayout} says, with {@link QuantDecode#fp8Table} as
 * {@code table}, which only fp8 reads); arrays a format does not read are one-element placeholders, since a kernel's
 * parameters are fixed.
 *
 * <p>{@link #at} is {@code dev.tornadonn.tornado.DeviceKernels}' weight fetch step for step, so
 * the twins read every weight exactly as the device does.
 */
public record KernelWeight(int format, int rows, int cols, int bits, int groups, float[] f32, short[] half, int[] codes,
                           float[] table, float[] scales, float[] zeros, int[] groupMap) {

    public static KernelWeight ofF32(float[] values, int rows, int cols) {
        return new KernelWeight(WeightFormat.F32, rows, cols, 32, 1, values, new short[1], new int[1], new float[1],
                new float[1], new float[1], new int[1]);
    }

    public static KernelWeight ofHalf(int format, short[] bits, int rows, int cols) {
        return new KernelWeight(format, rows, cols, 16, 1, new float[1], bits, new int[1], HalfDecode.powerTable(),
                new float[1], new float[1], new int[1]);
    }

    /** A GPTQ, fp8 or int8 layout over its packed {@code codes} ({@link QuantLayout#codes}). */
    public static KernelWeight ofPacked(QuantLayout layout, int[] codes) {
        return new KernelWeight(layout.format(), layout.rows(), layout.cols(), layout.bits(), layout.groups(), new float[1],
                new short[1], codes, QuantDecode.fp8Table(), layout.scales(), layout.zeros(), layout.groupMap());
    }

    /** Weight {@code (row, col)} as the kernels decode it. */
    public float at(int row, int col) {
        int k = cols;
        float v;
        if (format == WeightFormat.F32) {
            v = f32[row * k + col];
        } else if (WeightFormat.isHalf(format)) {
            int h = half[row * k + col];
            v = HalfDecode.value(h, format, table[HalfDecode.tableIndex(h, format)]);
        } else {
            int bit = col * bits;
            int word = row * QuantDecode.wordsPerRow(k, bits) + (bit >> 5);
            int shift = bit & 31;
            int hi = QuantDecode.straddles(shift, bits) ? codes[word + 1] : 0;
            int q = QuantDecode.code(codes[word], hi, shift, bits);
            int g = row * groups + groupMap[groupMap[row] + col];
            float zero = 0.0f;
            float tableValue = 0.0f;
            if (format == WeightFormat.GPTQ) {
                zero = zeros[g];
            } else if (WeightFormat.isFp8(format)) {
                tableValue = table[QuantDecode.tableIndex(format, q)];
            }
            v = QuantDecode.value(format, q, tableValue, scales[g], zero);
        }
        return v;
    }
}

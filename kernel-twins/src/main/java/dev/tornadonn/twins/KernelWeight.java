package dev.tornadonn.twins;

/**
 * A weight in the arrays the device kernels read, and its plain-Java decode: one record for every
 * format, because one GEMV and one GEMM kernel read them all. f32 values ({@code f32}), bf16/fp16
 * bits ({@code half}, with {@link HalfDecode#powerTable} as {@code table}), packed codes
 * ({@code codes}, laid out as {@link QuantLayout} says, with {@link QuantDecode#fp8Table} as
 * {@code table}, which only fp8 reads) or GGUF blocks ({@code codes}, laid out as {@link GgufCodes}
 * says, their f16 scales looked up in {@link GgufDecode#halfTable} as {@code table}); arrays a
 * format does not read are one-element placeholders, since a kernel's parameters are fixed.
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

    /** GGUF blocks over their words ({@link GgufCodes#codes}). */
    public static KernelWeight ofGguf(GgufCodes layout, int[] codes) {
        return new KernelWeight(layout.format(), layout.rows(), layout.cols(), 8, 1, new float[1], new short[1], codes,
                GgufDecode.halfTable(), new float[1], new float[1], new int[1]);
    }

    /** Weight {@code (row, col)} as the kernels decode it: GGUF blocks or the rest, as they pick their weight fetch. */
    public float at(int row, int col) {
        return WeightFormat.isGguf(format) ? ggufAt(row, col) : denseOrPackedAt(row, col);
    }

    /** {@code DeviceKernels.weight}. */
    private float denseOrPackedAt(int row, int col) {
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

    /** {@code DeviceKernels.ggufWeight}. */
    private float ggufAt(int row, int col) {
        float v;
        if (format == WeightFormat.Q4_0) {
            v = ggufQ0Weight(WeightFormat.Q4_0, row, col);
        } else if (format == WeightFormat.Q8_0) {
            v = ggufQ0Weight(WeightFormat.Q8_0, row, col);
        } else if (format == WeightFormat.Q4_K) {
            v = q4kWeight(row, col);
        } else {
            v = q6kWeight(row, col);
        }
        return v;
    }

    /** Q4_0 or Q8_0 ({@code format}): {@code d·q}. */
    private float ggufQ0Weight(int format, int row, int col) {
        int k = cols;
        int w0 = row * GgufDecode.rowWords(format, k);
        int at = GgufDecode.blockStart(format, col);
        int e = GgufDecode.element(format, col);
        int h = GgufDecode.halfOf(codes[w0 + (at >> 2)], at);
        int b = ggufByte(w0, at + GgufDecode.q0CodeAt(format, e));
        float d = table[h];
        return d * GgufDecode.q0Code(format, b, e);
    }

    /** Q4_K: {@code (d·sc)·q − dmin·m}. */
    private float q4kWeight(int row, int col) {
        int k = cols;
        int format = WeightFormat.Q4_K;
        int w0 = row * GgufDecode.rowWords(format, k);
        int at = GgufDecode.blockStart(format, col);
        int e = GgufDecode.element(format, col);
        int j = e >> 5;
        int s = at + GgufDecode.Q4_K_SCALES;
        int dWord = codes[w0 + (at >> 2)]; // d and dmin: a Q4_K block starts on a word
        int hd = GgufDecode.halfOf(dWord, at);
        int hm = GgufDecode.halfOf(dWord, at + GgufDecode.Q4_K_DMIN);
        int a = ggufByte(w0, s + j + 4);
        int b = ggufByte(w0, s + j);
        int c = ggufByte(w0, s + (j & 3));
        int q = GgufDecode.nibble(ggufByte(w0, at + GgufDecode.q4kCodeAt(e)), j & 1);
        float d = table[hd];
        float dmin = table[hm];
        return d * GgufDecode.q4kScale(j, a, b, c) * q - dmin * GgufDecode.q4kMin(j, a, b);
    }

    /** Q6_K: {@code (d·sc)·q}. */
    private float q6kWeight(int row, int col) {
        int k = cols;
        int format = WeightFormat.Q6_K;
        int w0 = row * GgufDecode.rowWords(format, k);
        int at = GgufDecode.blockStart(format, col);
        int e = GgufDecode.element(format, col);
        int dAt = at + GgufDecode.Q6_K_D;
        int h = GgufDecode.halfOf(codes[w0 + (dAt >> 2)], dAt);
        int low = ggufByte(w0, at + GgufDecode.q6kLowAt(e));
        int high = ggufByte(w0, at + GgufDecode.q6kHighAt(e));
        int sc = GgufDecode.signed(ggufByte(w0, at + GgufDecode.q6kScaleAt(e)));
        float d = table[h];
        return d * sc * GgufDecode.q6kCode(e, low, high);
    }

    /** Byte {@code at} of the GGUF row starting at word {@code w0}. */
    private int ggufByte(int w0, int at) {
        return GgufDecode.byteOf(codes[w0 + (at >> 2)], at);
    }
}

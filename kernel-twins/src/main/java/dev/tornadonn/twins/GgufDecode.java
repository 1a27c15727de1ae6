package dev.tornadonn.twins;

/**
 * The per-element arithmetic of llama.cpp's GGUF blocks in the device kernels, shared by the
 * kernels (which inline it) and their twins. A weight's rows are their raw block bytes, each row
 * starting on a 32-bit word ({@link GgufCodes}); element {@code (row, col)} lies in block
 * {@code col / blockSize} of its row, and each format reads a fixed handful of that block's bytes:
 * <ul>
 *   <li>{@link WeightFormat#Q4_0} (32 per 18 bytes): f16 {@code d} at 0, nibbles from byte 2 (elements
 *       0..15 low, 16..31 high); {@code d·(q − 8)}.</li>
 *   <li>{@link WeightFormat#Q8_0} (32 per 34 bytes): f16 {@code d} at 0, signed bytes from 2; {@code d·q}.</li>
 *   <li>{@link WeightFormat#Q4_K} (256 per 144 bytes): f16 {@code d} at 0 and {@code dmin} at 2, eight
 *       6-bit scales and mins in bytes 4..15, nibbles from 16; {@code (d·sc)·q − dmin·m} per sub-block of 32.</li>
 *   <li>{@link WeightFormat#Q6_K} (256 per 210 bytes): low nibbles from 0, high bit pairs from 128, signed
 *       scales from 192, f16 {@code d} at 208; {@code (d·sc)·(q − 32)} per sub-block of 16.</li>
 * </ul>
 * The f16 scales are decoded by looking their 16 bits up in {@link #halfTable} (every pattern's
 * f32 value: OpenCL from TornadoVM cannot reinterpret bits, and {@link HalfDecode}'s arithmetic,
 * inlined once per scale, would take the kernels' weight fetch past TornadoVM's inlining limit),
 * then the f32 operations are ggml's {@code dequantize_row_*}, in its order, so each weight is
 * bit-for-bit ggml's (and {@code dev.tornadonn.core.weights.GgufBlocks}', the JVM backend's
 * decoder). Arithmetic shifts and masks only, one return per method (see {@link QuantDecode#code}).
 */
public final class GgufDecode {
    /** Byte offsets inside a block. */
    public static final int Q4_K_DMIN = 2;
    public static final int Q4_K_SCALES = 4;
    public static final int Q6_K_D = 208;

    private GgufDecode() {}

    /** The f32 value of every f16 bit pattern, indexed by the 16 bits: the kernels' {@code table} for GGUF weights. */
    public static float[] halfTable() {
        float[] t = new float[1 << 16];
        for (int h = 0; h < t.length; h++) {
            t[h] = Float.float16ToFloat((short) h);
        }
        return t;
    }

    /** Elements per block: 32, or 256 for the K-quants' super-blocks. */
    public static int blockSize(int format) {
        int size = 256;
        if (format == WeightFormat.Q4_0 || format == WeightFormat.Q8_0) {
            size = 32;
        }
        return size;
    }

    public static int blockBytes(int format) {
        int bytes = 210;
        if (format == WeightFormat.Q4_0) {
            bytes = 18;
        } else if (format == WeightFormat.Q8_0) {
            bytes = 34;
        } else if (format == WeightFormat.Q4_K) {
            bytes = 144;
        }
        return bytes;
    }

    /** Bytes of a row of {@code k} elements (whole blocks). */
    public static int rowBytes(int format, int k) {
        return k / blockSize(format) * blockBytes(format);
    }

    /** Words a row takes: its bytes rounded up to whole words, so each row starts on one. */
    public static int rowWords(int format, int k) {
        return (rowBytes(format, k) + 3) >> 2;
    }

    /** The first byte, within its row, of the block holding column {@code col}. */
    public static int blockStart(int format, int col) {
        return col / blockSize(format) * blockBytes(format);
    }

    /** Column {@code col}'s place in its block. */
    public static int element(int format, int col) {
        return col % blockSize(format);
    }

    /** Byte {@code at} of a row, from the little-endian word {@code at >> 2} of the row holding it. */
    public static int byteOf(int word, int at) {
        return (word >> ((at & 3) << 3)) & 0xFF;
    }

    /** The 16 bits at even byte {@code at}, from its word (a block's f16 fields are at even bytes, never across words). */
    public static int halfOf(int word, int at) {
        return (word >> ((at & 2) << 3)) & 0xFFFF;
    }

    /** A byte read as int8. */
    public static int signed(int b) {
        return b - ((b & 0x80) << 1);
    }

    /** The low ({@code high == 0}) or high nibble of a byte. */
    public static int nibble(int b, int high) {
        int v = b & 15;
        if (high != 0) {
            v = b >> 4;
        }
        return v;
    }

    /** Q4_0 and Q8_0: the byte of element {@code e}'s code within its block. */
    public static int q0CodeAt(int format, int e) {
        int at = 2 + e;
        if (format == WeightFormat.Q4_0) {
            at = 2 + (e & 15);
        }
        return at;
    }

    /** Q4_0 and Q8_0: element {@code e}'s integer code, from its byte {@code b}: {@code q − 8} or int8. */
    public static int q0Code(int format, int b, int e) {
        int q = signed(b);
        if (format == WeightFormat.Q4_0) {
            q = nibble(b, e >> 4) - 8;
        }
        return q;
    }

    /** Q4_K: the byte of element {@code e}'s nibble (sub-blocks 2i and 2i+1 share 32 bytes, low and high nibbles). */
    public static int q4kCodeAt(int e) {
        return 16 + ((e >> 6) << 5) + (e & 31);
    }

    /**
     * Q4_K's 6-bit scale of sub-block {@code j} (ggml's {@code get_scale_min_k4}), from the scale
     * bytes {@code a = s[j+4]}, {@code b = s[j]} and {@code c = s[j & 3]} (for j ≥ 4: {@code s[j−4]}).
     */
    public static int q4kScale(int j, int a, int b, int c) {
        int v = b & 63;
        if (j >= 4) {
            v = (a & 15) | ((c >> 6) << 4);
        }
        return v;
    }

    /** Q4_K's 6-bit min of sub-block {@code j}, from the same bytes as {@link #q4kScale}. */
    public static int q4kMin(int j, int a, int b) {
        int v = a & 63;
        if (j >= 4) {
            v = (a >> 4) | ((b >> 6) << 4);
        }
        return v;
    }

    /** Q6_K: the byte of element {@code e}'s low nibble (each half of 128 has 64 bytes; quarters 0, 2 low nibbles, 1, 3 high). */
    public static int q6kLowAt(int e) {
        return ((e >> 7) << 6) + (((e >> 5) & 1) << 5) + (e & 31);
    }

    /** Q6_K: the byte holding element {@code e}'s high bit pair (one byte serves four quarters). */
    public static int q6kHighAt(int e) {
        return 128 + ((e >> 7) << 5) + (e & 31);
    }

    /** Q6_K: the byte of element {@code e}'s signed scale, one per 16 elements. */
    public static int q6kScaleAt(int e) {
        return 192 + ((e >> 7) << 3) + (((e >> 5) & 3) << 1) + ((e & 31) >> 4);
    }

    /** Q6_K: element {@code e}'s code {@code q − 32} from its low byte and high byte. */
    public static int q6kCode(int e, int low, int high) {
        int quarter = (e >> 5) & 3;
        return (nibble(low, quarter >> 1) | (((high >> (quarter << 1)) & 3) << 4)) - 32;
    }
}

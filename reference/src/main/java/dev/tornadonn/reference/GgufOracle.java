package dev.tornadonn.reference;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.io.GgmlType;

/**
 * GGUF blocks decoded element by element from the block layouts of ggml-common.h, written apart
 * from the library's decoder: each element finds its own nibbles, scale and min. Each value is what
 * ggml's dequantisation gives (its f32 operations, in its order; for Q4_0, Q8_0 every value is exact
 * anyway), returned as a double for the float64 product.
 */
public final class GgufOracle {
    private GgufOracle() {}

    /** The {@code rows × cols} values of {@code rows} rows of blocks, {@code rowBytes} each. */
    public static double[] decode(GgmlType type, byte[] blocks, int rows, int cols) {
        double[] out = new double[rows * cols];
        int rowBytes = (int) type.rowBytes(cols);
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                int block = r * rowBytes + c / type.blockSize() * type.blockBytes();
                out[r * cols + c] = value(type, blocks, block, c % type.blockSize());
            }
        }
        return out;
    }

    private static float half(byte[] b, int at) {
        return Float.float16ToFloat((short) ((b[at] & 0xFF) | (b[at + 1] & 0xFF) << 8));
    }

    private static int u8(byte[] b, int at) {
        return b[at] & 0xFF;
    }

    /** Element e of the block starting at {@code at}. */
    static float value(GgmlType type, byte[] b, int at, int e) {
        switch (type) {
            case Q4_0 -> {
                int q = u8(b, at + 2 + e % 16);
                int nibble = e < 16 ? q & 15 : q >>> 4;
                return half(b, at) * (float) (nibble - 8);
            }
            case Q8_0 -> {
                return half(b, at) * (float) b[at + 2 + e];
            }
            case Q4_K -> {
                int sub = e / 32;             // eight sub-blocks of 32
                int q = u8(b, at + 16 + (sub / 2) * 32 + e % 32);
                int nibble = sub % 2 == 0 ? q & 15 : q >>> 4;
                int s = at + 4;               // 12 bytes: scales 0-3, mins 0-3, then the high bits and 4-7
                int scale;
                int min;
                if (sub < 4) {
                    scale = u8(b, s + sub) & 0x3F;
                    min = u8(b, s + 4 + sub) & 0x3F;
                } else {
                    scale = (u8(b, s + 8 + sub - 4) & 0x0F) | ((u8(b, s + sub - 4) >>> 2) & 0x30);
                    min = (u8(b, s + 8 + sub - 4) >>> 4) | ((u8(b, s + sub) >>> 2) & 0x30);
                }
                float d = half(b, at) * (float) scale;
                float m = half(b, at + 2) * (float) min;
                return d * (float) nibble - m;
            }
            case Q6_K -> {
                int half = e / 128;           // two halves of 128
                int r = e % 128;
                int quarter = r / 32;         // four runs of 32 per half
                int l = r % 32;
                int low = u8(b, at + half * 64 + l + (quarter % 2) * 32);
                int lowNibble = quarter < 2 ? low & 15 : low >>> 4;
                int high = (u8(b, at + 128 + half * 32 + l) >>> (2 * quarter)) & 3;
                int q = (lowNibble | high << 4) - 32;
                int scale = b[at + 192 + half * 8 + quarter * 2 + l / 16];
                float d = half(b, at + 208) * (float) scale;
                return d * (float) q;
            }
            default -> throw new ConfigException("no oracle for GGUF " + type);
        }
    }
}

package dev.tornadonn.core.weights;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.io.GgmlType;

/**
 * Exact decoding of the GGUF block types this library runs, as ggml's {@code dequantize_row_*}
 * and the {@code gguf} package's {@code gguf.quants.dequantize} compute them: f16 scales widened to
 * f32, then the same f32 operations in the same order, so every value is bit-for-bit theirs.
 * <ul>
 *   <li>Q4_0 (32 per 18-byte block): {@code d · (q - 8)}, q the low nibbles of bytes 2..17 for
 *       elements 0..15 and their high nibbles for 16..31.</li>
 *   <li>Q8_0 (32 per 34 bytes): {@code d · q}, q signed bytes.</li>
 *   <li>Q4_K (256 per 144 bytes: d, dmin, 12 bytes of eight 6-bit scales and mins, 128 bytes of
 *       nibbles): {@code (d·sc)·q - dmin·m} per sub-block of 32.</li>
 *   <li>Q6_K (256 per 210 bytes: 128 bytes of low nibbles, 64 of high bit pairs, 16 signed scales,
 *       d): {@code (d·sc)·(q - 32)} per sub-block of 16.</li>
 * </ul>
 */
public final class GgufBlocks {
    private GgufBlocks() {}

    /** Q4_0, Q8_0, Q4_K, Q6_K. */
    public static boolean isSupported(GgmlType t) {
        return t == GgmlType.Q4_0 || t == GgmlType.Q8_0 || t == GgmlType.Q4_K || t == GgmlType.Q6_K;
    }

    static float f16(byte[] b, int at) {
        return Float.float16ToFloat((short) ((b[at] & 0xFF) | (b[at + 1] << 8)));
    }

    /**
     * Decodes the {@code count} elements in {@code src[from ..]} (whole blocks of {@code type})
     * into {@code out[outAt ..]}.
     */
    public static void decode(GgmlType type, byte[] src, int from, int count, float[] out, int outAt) {
        int blocks = count / type.blockSize();
        int bytes = type.blockBytes();
        for (int b = 0; b < blocks; b++) {
            int at = from + b * bytes;
            int o = outAt + b * type.blockSize();
            switch (type) {
                case Q4_0 -> q4_0(src, at, out, o);
                case Q8_0 -> q8_0(src, at, out, o);
                case Q4_K -> q4_k(src, at, out, o);
                case Q6_K -> q6_k(src, at, out, o);
                default -> throw new ConfigException("no decoder for GGUF type " + type);
            }
        }
    }

    static void q4_0(byte[] s, int at, float[] out, int o) {
        float d = f16(s, at);
        for (int j = 0; j < 16; j++) {
            int q = s[at + 2 + j] & 0xFF;
            out[o + j] = d * ((q & 0xF) - 8);
            out[o + j + 16] = d * ((q >> 4) - 8);
        }
    }

    static void q8_0(byte[] s, int at, float[] out, int o) {
        float d = f16(s, at);
        for (int j = 0; j < 32; j++) {
            out[o + j] = d * s[at + 2 + j];
        }
    }

    static void q4_k(byte[] s, int at, float[] out, int o) {
        float d = f16(s, at);
        float dmin = f16(s, at + 2);
        int sc = at + 4;
        int qs = at + 16;
        for (int sub = 0; sub < 8; sub += 2) {
            float d1 = d * scaleK4(s, sc, sub);
            float m1 = dmin * minK4(s, sc, sub);
            float d2 = d * scaleK4(s, sc, sub + 1);
            float m2 = dmin * minK4(s, sc, sub + 1);
            int q = qs + sub * 16;
            int y = o + sub * 32;
            for (int l = 0; l < 32; l++) {
                int v = s[q + l] & 0xFF;
                out[y + l] = d1 * (v & 0xF) - m1;
                out[y + 32 + l] = d2 * (v >> 4) - m2;
            }
        }
    }

    /** ggml's get_scale_min_k4: the 6-bit scale of sub-block j. */
    static int scaleK4(byte[] s, int sc, int j) {
        return j < 4 ? s[sc + j] & 63 : (s[sc + j + 4] & 0xF) | ((s[sc + j - 4] & 0xFF) >> 6) << 4;
    }

    /** The 6-bit min of sub-block j. */
    static int minK4(byte[] s, int sc, int j) {
        return j < 4 ? s[sc + j + 4] & 63 : ((s[sc + j + 4] & 0xFF) >> 4) | ((s[sc + j] & 0xFF) >> 6) << 4;
    }

    static void q6_k(byte[] s, int at, float[] out, int o) {
        float d = f16(s, at + 208);
        for (int half = 0; half < 2; half++) {
            int ql = at + half * 64;
            int qh = at + 128 + half * 32;
            int sc = at + 192 + half * 8;
            int y = o + half * 128;
            for (int l = 0; l < 32; l++) {
                int is = l / 16;
                int low0 = s[ql + l] & 0xFF;
                int low1 = s[ql + l + 32] & 0xFF;
                int high = s[qh + l] & 0xFF;
                int q1 = ((low0 & 0xF) | (high & 3) << 4) - 32;
                int q2 = ((low1 & 0xF) | (high >> 2 & 3) << 4) - 32;
                int q3 = ((low0 >> 4) | (high >> 4 & 3) << 4) - 32;
                int q4 = ((low1 >> 4) | (high >> 6 & 3) << 4) - 32;
                out[y + l] = d * s[sc + is] * q1;
                out[y + l + 32] = d * s[sc + is + 2] * q2;
                out[y + l + 64] = d * s[sc + is + 4] * q3;
                out[y + l + 96] = d * s[sc + is + 6] * q4;
            }
        }
    }
}

package dev.tornadonn.layers.quant;

import dev.tornadonn.core.ConfigException;
/**
 * GPTQ's packing: {@code bits}-wide unsigned values as one little-endian bit stream over int32
 * words, value {@code i} at bit {@code bits·i} (so 3-bit values straddle words). The words of
 * one stream lie {@code stride} ints apart: a qweight column (stride N) or a qzeros row (stride 1).
 */
public final class PackedBits {
    private PackedBits() {}

    public static int get(int[] words, int base, int stride, int bits, int index) {
        long bit = (long) bits * index;
        int word = (int) (bit >>> 5);
        int shift = (int) (bit & 31);
        int value = words[base + word * stride] >>> shift;
        if (shift + bits > 32) {
            value |= words[base + (word + 1) * stride] << (32 - shift);
        }
        return value & ((1 << bits) - 1);
    }

    public static void set(int[] words, int base, int stride, int bits, int index, int value) {
        if (value < 0 || value >= 1 << bits) {
            throw new ConfigException(value + " does not fit in " + bits + " bits");
        }
        long bit = (long) bits * index;
        int word = (int) (bit >>> 5);
        int shift = (int) (bit & 31);
        words[base + word * stride] |= value << shift;
        if (shift + bits > 32) {
            words[base + (word + 1) * stride] |= value >>> (32 - shift);
        }
    }
}

package dev.tornadonn.jvm;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.NativeMemory;
import dev.tornadonn.core.io.GgmlType;
import dev.tornadonn.core.io.MappedCopy;
import dev.tornadonn.core.weights.GgufBlocks;
import dev.tornadonn.core.weights.GgufMatrix;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * The JVM kernels' layout of a GGUF weight: its blocks exactly as the file packs them, copied once
 * off the heap (the layout holds the packed bytes and nothing else), decoded a super-block or a row
 * at a time by {@link GgufBlocks} as the kernels go.
 */
record GgufLayout(int rows, int cols, GgmlType type, MemorySegment blocks) implements KernelLayout {

    int rowBytes() {
        return (int) type.rowBytes(cols);
    }

    @Override
    public long bytes() {
        return blocks.byteSize();
    }

    /** Blocks of one type and width stack into one layout. */
    static boolean fusable(List<GgufMatrix> blocks) {
        GgufMatrix first = blocks.get(0);
        return blocks.stream().allMatch(b -> b.type() == first.type() && b.cols() == first.cols());
    }

    static GgufLayout of(List<GgufMatrix> blocks) {
        if (!fusable(blocks)) {
            throw new ConfigException("GGUF blocks of different types cannot share a layout");
        }
        GgufMatrix first = blocks.get(0);
        long bytes = blocks.stream().mapToLong(GgufMatrix::packedBytes).sum();
        int rows = blocks.stream().mapToInt(GgufMatrix::rows).sum();
        MemorySegment seg = NativeMemory.allocate(Math.max(1, bytes), "the blocks of a " + rows + " x " + first.cols() + " "
                + first.describe() + " weight");
        long at = 0;
        for (GgufMatrix b : blocks) {
            MappedCopy.copy(b.blocks().data(), seg, at);
            at += b.packedBytes();
        }
        return new GgufLayout(rows, first.cols(), first.type(), seg);
    }

    /** Row {@code n}'s bytes into {@code raw}, then its values, exactly, into {@code out[0 .. cols)}. */
    void decodeRow(int n, byte[] raw, float[] out) {
        copyBlocks(n, 0, cols, raw);
        GgufBlocks.decode(type, raw, 0, cols, out, 0);
    }

    /** The bytes of row {@code n}'s blocks holding columns {@code [from, from + len)} (whole blocks) into {@code raw}. */
    void copyBlocks(int n, int from, int len, byte[] raw) {
        MemorySegment.copy(blocks, ValueLayout.JAVA_BYTE, (long) n * rowBytes() + type.rowBytes(from), raw, 0,
                (int) type.rowBytes(len));
    }
}

package dev.tornadonn.twins;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.io.GgmlType;
import dev.tornadonn.core.io.MappedCopy;
import dev.tornadonn.core.weights.GgufMatrix;
import dev.tornadonn.core.weights.WeightMatrix;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.List;

/**
 * GGUF blocks as the device kernels read them ({@link GgufDecode}), stacked along the outputs (an
 * MLP's gate and up): each row's raw block bytes as the file packs them, four to an int as
 * little-endian words, each row padded to whole words (at most 2 bytes: a row's bytes are even)
 * so that a byte's word is {@code row · rowWords + at / 4} and no index outgrows an int while the
 * words fit one array. Nothing is decoded or widened: the device holds the file's bytes.
 *
 * <p>The blocks must share their type: the kernels' format is one scalar per weight.
 */
public record GgufCodes(int format, GgmlType type, int rows, int cols) {
    private static final ValueLayout.OfInt LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt WORD = ValueLayout.JAVA_INT_UNALIGNED;

    /** The layout of {@code blocks}, all {@link GgufMatrix} of one type; codes come from {@link #writeCodes}. */
    public static GgufCodes of(List<? extends WeightMatrix> blocks) {
        if (!(blocks.get(0) instanceof GgufMatrix first)) {
            throw new ConfigException("not a GGUF weight: " + blocks.get(0).kind());
        }
        int rows = 0;
        for (WeightMatrix w : blocks) {
            if (!(w instanceof GgufMatrix b) || b.type() != first.type() || b.cols() != first.cols()) {
                throw new ConfigException("GGUF blocks stacked into one weight (an MLP's gate and up) must share their "
                        + "block type for the device kernels: " + first.describe() + " and " + w.describe()
                        + " (load this layer on a cpu device, which runs them apart)");
            }
            rows = Math.addExact(rows, b.rows());
        }
        return new GgufCodes(WeightFormat.of(first.type()), first.type(), rows, first.cols());
    }

    public int rowBytes() {
        return GgufDecode.rowBytes(format, cols);
    }

    public int rowWords() {
        return GgufDecode.rowWords(format, cols);
    }

    public long codeInts() {
        return (long) rows * rowWords();
    }

    /** The device bytes of the weight. */
    public long bytes() {
        return 4L * codeInts();
    }

    /** Writes the rows' words, {@link #codeInts} ints in the machine's order, into {@code target}, releasing mapped pages as it goes. */
    public void writeCodes(List<? extends WeightMatrix> blocks, MemorySegment target) {
        int rowBytes = rowBytes();
        int rowWords = rowWords();
        int whole = rowBytes >> 2;
        long row0 = 0;
        for (WeightMatrix w : blocks) {
            MemorySegment src = ((GgufMatrix) w).blocks().data();
            long released = 0;
            for (int n = 0; n < w.rows(); n++) {
                long from = (long) n * rowBytes;
                long to = (row0 + n) * rowWords * 4L;
                MemorySegment.copy(src, LE, from, target, WORD, to, whole);
                if (whole < rowWords) { // the row's last bytes, zero-padded to a word
                    int v = 0;
                    for (int j = 0; 4 * whole + j < rowBytes; j++) {
                        v |= (src.get(ValueLayout.JAVA_BYTE, from + 4L * whole + j) & 0xFF) << (8 * j);
                    }
                    target.set(WORD, to + 4L * whole, v);
                }
                long done = from + rowBytes;
                if (done - released >= MappedCopy.CHUNK || n == w.rows() - 1) {
                    MappedCopy.release(src.asSlice(released, done - released));
                    released = done;
                }
            }
            row0 += w.rows();
        }
    }

    /** The words in a Java array, for the twins. */
    public int[] codes(List<? extends WeightMatrix> blocks) {
        int[] out = new int[Math.toIntExact(codeInts())];
        writeCodes(blocks, MemorySegment.ofArray(out));
        return out;
    }
}

package dev.tornadonn.core.weights;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
/**
 * A layer's weight {@code (rows = out features, cols = in features)} as its checkpoint packs it:
 * what layers read, sharding cuts and a backend prepares once for a device. The data may be a view
 * of a memory-mapped file; nothing here copies it except the cuts, which sharding makes before
 * anything is prepared so that no device ever holds another device's shard.
 *
 * <p>Adding a format is adding a member here, its checkpoint reader, and its kernels
 * (docs/ARCHITECTURE.md).
 */
public sealed interface WeightMatrix permits DenseMatrix, GroupQuantizedMatrix, Fp8Matrix, GgufMatrix,
        Int8Matrix {

    /** N, the output features. */
    int rows();

    /** K, the input features. */
    int cols();

    WeightKind kind();

    /** A short description for messages and logs, e.g. {@code bf16} or {@code gptq 4-bit, group 128}. */
    String describe();

    /**
     * The bytes of the weight packed as this format keeps it: the bound a prepared copy is held to.
     * Dense: the values. Group-quantised: codes at their bit width, an f32 scale and zero point per
     * (row, group) and, with act-order, the column order. FP8: a byte per code and an f32 per scale.
     * GGUF: the blocks. INT8: a byte per code and an f32 per scale.
     */
    long packedBytes();

    /** Output features {@code rows[0], rows[1], ...} in that order. */
    WeightMatrix selectRows(int[] rows);

    /** Input features {@code cols[0], cols[1], ...} in that order; refused where the scales cannot follow. */
    WeightMatrix selectColumns(int[] cols);

    /** Whether {@code index} is {@code from, from + 1, ..., from + length - 1}; returns from or -1. */
    static int contiguousStart(int[] index) {
        for (int j = 1; j < index.length; j++) {
            if (index[j] != index[0] + j) {
                return -1;
            }
        }
        return index.length == 0 ? 0 : index[0];
    }

    static void checkIndex(int[] index, int size, String what) {
        for (int i : index) {
            if (i < 0 || i >= size) {
                throw new ConfigException(what + " index " + i + " outside [0, " + size + ")");
            }
        }
    }

    /**
     * Rows {@code sel} of {@code codes}, a {@code (rows, cols)} tensor of one-byte codes: a view
     * when they are one contiguous run, else a copy row by row.
     */
    static Tensor selectByteRows(Tensor codes, int cols, int[] sel) {
        int start = contiguousStart(sel);
        if (start >= 0) {
            return codes.slice(0, start, start + sel.length);
        }
        Tensor out = Tensor.allocate(codes.dtype(), Shape.of(sel.length, cols), codes.device());
        for (int r = 0; r < sel.length; r++) {
            java.lang.foreign.MemorySegment.copy(codes.data(), (long) sel[r] * cols, out.data(), (long) r * cols, cols);
        }
        return out;
    }
}

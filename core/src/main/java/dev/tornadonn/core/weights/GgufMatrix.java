package dev.tornadonn.core.weights;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.DType;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.io.GgmlType;
import java.lang.foreign.MemorySegment;
import java.util.Locale;
import java.util.Objects;

/**
 * A GGUF block-quantised weight (Q4_0, Q8_0, Q4_K or Q6_K) kept as llama.cpp packs it: each output
 * row is its input features' whole blocks, the scales inside them ({@link GgufBlocks} decodes
 * them). Cutting rows moves whole rows of bytes; cutting columns is possible at block boundaries
 * only, where a shard takes whole blocks.
 *
 * @param blocks U8 {@code (rows, type.rowBytes(cols))}, possibly a view of a mapped GGUF file
 */
public record GgufMatrix(int rows, int cols, GgmlType type, Tensor blocks) implements WeightMatrix {

    public GgufMatrix {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(blocks, "blocks");
        if (!GgufBlocks.isSupported(type)) {
            throw new ConfigException("GGUF type " + type + " is not supported; supported: Q4_0, Q8_0, Q4_K, Q6_K "
                    + "(and F32, F16, BF16 as dense weights)");
        }
        if (rows < 0 || cols < 0 || cols % type.blockSize() != 0) {
            throw new ConfigException("a " + type + " weight's input features are whole blocks of "
                    + type.blockSize() + ", got " + rows + " x " + cols);
        }
        Shape want = Shape.of(rows, (int) type.rowBytes(cols));
        if (blocks.dtype() != DType.U8 || !blocks.shape().equals(want)) {
            throw new ConfigException("the blocks of a " + rows + " x " + cols + " " + type + " weight are U8 "
                    + want + ", got " + blocks);
        }
    }

    /** The row's bytes. */
    public int rowBytes() {
        return (int) type.rowBytes(cols);
    }

    /** Row {@code row}, decoded exactly as ggml does, into {@code out[0 .. cols)}. */
    public void decodeRow(int row, float[] out) {
        byte[] bytes = blocks.data().asSlice((long) row * rowBytes(), rowBytes()).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        GgufBlocks.decode(type, bytes, 0, cols, out, 0);
    }

    @Override
    public WeightKind kind() {
        return WeightKind.GGUF;
    }

    @Override
    public String describe() {
        return "gguf " + type.name().toLowerCase(Locale.ROOT);
    }

    @Override
    public long packedBytes() {
        return blocks.data().byteSize();
    }

    @Override
    public GgufMatrix selectRows(int[] sel) {
        WeightMatrix.checkIndex(sel, rows, "row");
        int start = WeightMatrix.contiguousStart(sel);
        if (start >= 0) {
            return new GgufMatrix(sel.length, cols, type, blocks.slice(0, start, start + sel.length));
        }
        long rb = rowBytes();
        Tensor out = Tensor.allocate(DType.U8, Shape.of(sel.length, rowBytes()), blocks.device());
        for (int r = 0; r < sel.length; r++) {
            MemorySegment.copy(blocks.data(), sel[r] * rb, out.data(), r * rb, rb);
        }
        return new GgufMatrix(sel.length, cols, type, out);
    }

    /** A contiguous run of whole blocks; anything else is refused (a cut block would lose its scales). */
    @Override
    public GgufMatrix selectColumns(int[] sel) {
        WeightMatrix.checkIndex(sel, cols, "column");
        int start = WeightMatrix.contiguousStart(sel);
        int bs = type.blockSize();
        if (start < 0) {
            throw new ConfigException("a " + type + " weight's columns can only be cut as one contiguous run of "
                    + "whole blocks of " + bs);
        }
        if (start % bs != 0 || sel.length % bs != 0) {
            throw new ConfigException("a " + type + " shard of columns [" + start + ", " + (start + sel.length)
                    + ") cuts its blocks of " + bs + ": shard the input features at multiples of " + bs);
        }
        int from = (int) type.rowBytes(start);
        int to = (int) type.rowBytes(start + sel.length);
        return new GgufMatrix(rows, sel.length, type, blocks.slice(1, from, to));
    }
}

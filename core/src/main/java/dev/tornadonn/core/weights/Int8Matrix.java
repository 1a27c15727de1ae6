package dev.tornadonn.core.weights;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.DType;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;

/**
 * An int8 weight (compressed-tensors W8A8) with its scales and the way inputs are quantised:
 * {@code y[m, n] = sx[m]·sw[n] · Σ_k (xq[m, k] − zx[m])·wq[n, k]}, the sum exact in integers.
 *
 * @param codes {@code (rows, cols)} I8 codes, possibly a view of a mapped checkpoint
 */
public record Int8Matrix(int rows, int cols, Tensor codes, Int8WeightScale weightScale, Int8InputQuantization input)
        implements WeightMatrix {

    public Int8Matrix {
        Objects.requireNonNull(codes, "codes");
        Objects.requireNonNull(weightScale, "weightScale");
        Objects.requireNonNull(input, "input");
        if (rows <= 0 || cols <= 0 || codes.dtype() != DType.I8 || !codes.shape().equals(Shape.of(rows, cols))) {
            throw new ConfigException("int8 codes must be I8 " + Shape.of(rows, cols) + ", got " + codes);
        }
        if (weightScale instanceof Int8WeightScale.PerChannel c && c.scales().length != rows) {
            throw new ConfigException("a weight of " + rows + " rows needs " + rows + " per-channel scales, got "
                    + c.scales().length);
        }
    }

    /** Codes held in a byte array, for tests and small weights. */
    public static Int8Matrix of(int rows, int cols, byte[] codes, Int8WeightScale weightScale, Int8InputQuantization input) {
        if (codes.length != (long) rows * cols) {
            throw new ConfigException("codes must hold rows × cols = " + rows + " × " + cols + " bytes");
        }
        Tensor t = Tensor.allocate(DType.I8, Shape.of(rows, cols));
        MemorySegment.copy(MemorySegment.ofArray(codes), 0, t.data(), 0, codes.length);
        return new Int8Matrix(rows, cols, t, weightScale, input);
    }

    public byte code(int row, int col) {
        return codes.data().get(ValueLayout.JAVA_BYTE, (long) row * cols + col);
    }

    @Override
    public WeightKind kind() {
        return WeightKind.INT8;
    }

    @Override
    public String describe() {
        return "int8, weight " + weightScale.describe() + ", input " + input.describe();
    }

    @Override
    public long packedBytes() {
        return (long) rows * cols + 4L * weightScale.expectedCount(rows);
    }

    @Override
    public Int8Matrix selectRows(int[] sel) {
        WeightMatrix.checkIndex(sel, rows, "row");
        return new Int8Matrix(sel.length, cols, WeightMatrix.selectByteRows(codes, cols, sel), weightScale.select(sel), input);
    }

    /**
     * Any input features: the weight scales are per row, so every cut keeps them. An input scaled
     * dynamically per token is scaled by each shard over its own slice of x, as vLLM runs such
     * layers tensor-parallel (the shards' sum then differs from the unsharded layer by that
     * rescaling); a static scale and zero point are the same for every shard.
     */
    @Override
    public Int8Matrix selectColumns(int[] sel) {
        WeightMatrix.checkIndex(sel, cols, "column");
        int start = WeightMatrix.contiguousStart(sel);
        Tensor out;
        if (start >= 0) {
            out = codes.slice(1, start, start + sel.length);
        } else {
            out = Tensor.allocate(DType.I8, Shape.of(rows, sel.length), codes.device());
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < sel.length; c++) {
                    out.data().set(ValueLayout.JAVA_BYTE, (long) r * sel.length + c, code(r, sel[c]));
                }
            }
        }
        return new Int8Matrix(rows, sel.length, out, weightScale, input);
    }
}

package dev.tornadonn.core.weights;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.DType;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.numeric.Float8Format;
import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * An fp8 weight with its scales and the way inputs are quantised before the product:
 * {@code y[m, n] = Σ_k xq[m, k]·sx · wq[n, k]·sw} with each scale taken at its granularity.
 *
 * @param codes {@code (rows, cols)} one-byte codes (an F8 or U8 tensor), possibly a view of a mapped checkpoint
 */
public record Fp8Matrix(int rows, int cols, Float8Format format, Tensor codes, Fp8WeightScale weightScale,
                        Fp8InputQuantization input) implements WeightMatrix {

    public Fp8Matrix {
        Objects.requireNonNull(format, "format");
        Objects.requireNonNull(codes, "codes");
        Objects.requireNonNull(weightScale, "weightScale");
        Objects.requireNonNull(input, "input");
        if (rows <= 0 || cols <= 0 || codes.dtype().byteSize() != 1 || !codes.shape().equals(Shape.of(rows, cols))) {
            throw new ConfigException("codes must be one-byte " + Shape.of(rows, cols) + ", got " + codes);
        }
        long count = switch (weightScale) {
            case Fp8WeightScale.PerTensor t -> 1;
            case Fp8WeightScale.PerRow r -> r.scales().length;
            case Fp8WeightScale.Block b -> b.scales().length;
        };
        if (count != weightScale.expectedCount(rows, cols)) {
            throw new ConfigException("a " + rows + " × " + cols + " weight needs "
                    + weightScale.expectedCount(rows, cols) + " scales for " + weightScale.getClass().getSimpleName()
                    + ", got " + count);
        }
    }

    /** Codes held in a byte array, for tests and small weights. */
    public static Fp8Matrix of(int rows, int cols, Float8Format format, byte[] codes, Fp8WeightScale weightScale,
                               Fp8InputQuantization input) {
        if (codes.length != (long) rows * cols) {
            throw new ConfigException("codes must hold rows × cols = " + rows + " × " + cols + " bytes");
        }
        Tensor t = Tensor.allocate(DType.U8, Shape.of(rows, cols));
        MemorySegment.copy(MemorySegment.ofArray(codes), 0, t.data(), 0, codes.length);
        return new Fp8Matrix(rows, cols, format, t, weightScale, input);
    }

    public byte code(int row, int col) {
        return codes.data().get(java.lang.foreign.ValueLayout.JAVA_BYTE, (long) row * cols + col);
    }

    @Override
    public WeightKind kind() {
        return WeightKind.FP8;
    }

    @Override
    public String describe() {
        return format.name().toLowerCase(java.util.Locale.ROOT) + ", weight " + weightScale.describe() + ", input "
                + input.describe();
    }

    @Override
    public long packedBytes() {
        return (long) rows * cols + 4L * weightScale.expectedCount(rows, cols);
    }

    @Override
    public Fp8Matrix selectRows(int[] sel) {
        WeightMatrix.checkIndex(sel, rows, "row");
        int start = WeightMatrix.contiguousStart(sel);
        Tensor out = WeightMatrix.selectByteRows(codes, cols, sel);
        Fp8WeightScale ws = switch (weightScale) {
            case Fp8WeightScale.PerTensor t -> t;
            case Fp8WeightScale.PerRow r -> {
                float[] scales = new float[sel.length];
                for (int j = 0; j < sel.length; j++) {
                    scales[j] = r.scales()[sel[j]];
                }
                yield new Fp8WeightScale.PerRow(scales);
            }
            case Fp8WeightScale.Block b -> {
                if (start < 0) {
                    throw new ConfigException("fp8 block scales need a shard's rows to be one contiguous run");
                }
                if (start % b.blockRows() != 0) {
                    throw misaligned("weight block", b.blockRows(), "rows", start);
                }
                int kBlocks = (cols + b.blockCols() - 1) / b.blockCols();
                int firstBlock = start / b.blockRows();
                int blocks = (sel.length + b.blockRows() - 1) / b.blockRows();
                float[] scales = new float[blocks * kBlocks];
                System.arraycopy(b.scales(), firstBlock * kBlocks, scales, 0, scales.length);
                yield new Fp8WeightScale.Block(b.blockRows(), b.blockCols(), scales);
            }
        };
        return new Fp8Matrix(sel.length, cols, format, out, ws, input);
    }

    /**
     * A contiguous run of input features. Refused, with the reason, only where the scales cannot
     * follow: blocks that would straddle the cut. An input scaled dynamically per token or per
     * tensor is scaled by each shard over its own slice of x, as MAX and vLLM run such layers
     * tensor-parallel (the shards' sum then differs from the unsharded layer by that rescaling).
     */
    @Override
    public Fp8Matrix selectColumns(int[] sel) {
        WeightMatrix.checkIndex(sel, cols, "column");
        int start = WeightMatrix.contiguousStart(sel);
        if (start < 0) {
            throw new ConfigException("fp8 block scales need a shard's columns to be one contiguous run");
        }
        if (input instanceof Fp8InputQuantization.DynamicBlock b && start % b.blockCols() != 0) {
            throw misaligned("input block", b.blockCols(), "columns", start);
        }
        Tensor out = codes.slice(1, start, start + sel.length);
        Fp8WeightScale ws = switch (weightScale) {
            case Fp8WeightScale.PerTensor t -> t;
            case Fp8WeightScale.PerRow r -> r;
            case Fp8WeightScale.Block b -> {
                if (start % b.blockCols() != 0) {
                    throw misaligned("weight block", b.blockCols(), "columns", start);
                }
                int kBlocks = (cols + b.blockCols() - 1) / b.blockCols();
                int nBlocks = (rows + b.blockRows() - 1) / b.blockRows();
                int keep = (sel.length + b.blockCols() - 1) / b.blockCols();
                float[] scales = new float[nBlocks * keep];
                for (int r = 0; r < nBlocks; r++) {
                    System.arraycopy(b.scales(), r * kBlocks + start / b.blockCols(), scales, r * keep, keep);
                }
                yield new Fp8WeightScale.Block(b.blockRows(), b.blockCols(), scales);
            }
        };
        return new Fp8Matrix(rows, sel.length, format, out, ws, input);
    }

    private static ConfigException misaligned(String what, int block, String axis, int start) {
        return new ConfigException("a shard starting at " + axis + " " + start + " lies inside a " + what
                + " of " + block + ": its " + axis + " would be paired with the wrong scales");
    }
}

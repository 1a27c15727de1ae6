package dev.tornadonn.core.weights;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.DType;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.io.MappedCopy;
import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * An F32, BF16 or F16 weight {@code (out, in)}, with MAX's optional clipping to
 * {@code [-clip, clip]} applied as the weight is copied into a backend's layout, never as a copy
 * of its own.
 *
 * @param values the {@code (rows, cols)} tensor, possibly a view of a mapped checkpoint
 * @param clip   0 for none, else the bound (rounded to the weight's dtype when applied)
 */
public record DenseMatrix(Tensor values, double clip) implements WeightMatrix {

    public DenseMatrix {
        Objects.requireNonNull(values, "values");
        if (values.shape().rank() != 2) {
            throw new ConfigException("a dense weight is rank 2 (out, in), got " + values.shape());
        }
        DType t = values.dtype();
        if (t != DType.F32 && t != DType.BF16 && t != DType.F16) {
            throw new ConfigException("dense weights are F32, BF16 or F16, got " + t);
        }
        if (!(clip >= 0) || Double.isInfinite(clip)) {
            throw new ConfigException("clip must be 0 (none) or a finite bound > 0, got " + clip);
        }
    }

    public static DenseMatrix of(Tensor values) {
        return new DenseMatrix(values, 0);
    }

    public DType dtype() {
        return values.dtype();
    }

    @Override
    public int rows() {
        return values.shape().dim(0);
    }

    @Override
    public int cols() {
        return values.shape().dim(1);
    }

    @Override
    public WeightKind kind() {
        return WeightKind.DENSE;
    }

    @Override
    public String describe() {
        return values.dtype().name().toLowerCase(java.util.Locale.ROOT) + (clip > 0 ? ", clipped to " + clip : "");
    }

    @Override
    public long packedBytes() {
        return values.data().byteSize();
    }

    @Override
    public DenseMatrix selectRows(int[] rows) {
        WeightMatrix.checkIndex(rows, rows(), "row");
        int start = WeightMatrix.contiguousStart(rows);
        if (start >= 0) {
            return new DenseMatrix(values.slice(0, start, start + rows.length), clip);
        }
        long rowBytes = (long) cols() * dtype().byteSize();
        Tensor out = Tensor.allocate(dtype(), Shape.of(rows.length, cols()), values.device());
        for (int r = 0; r < rows.length; r++) {
            MemorySegment.copy(values.data(), rows[r] * rowBytes, out.data(), r * rowBytes, rowBytes);
        }
        return new DenseMatrix(out, clip);
    }

    @Override
    public DenseMatrix selectColumns(int[] cols) {
        WeightMatrix.checkIndex(cols, cols(), "column");
        int start = WeightMatrix.contiguousStart(cols);
        if (start >= 0) {
            return new DenseMatrix(values.slice(1, start, start + cols.length), clip);
        }
        int e = dtype().byteSize();
        Tensor out = Tensor.allocate(dtype(), Shape.of(rows(), cols.length), values.device());
        for (long r = 0; r < rows(); r++) {
            for (int c = 0; c < cols.length; c++) {
                MemorySegment.copy(values.data(), (r * cols() + cols[c]) * e, out.data(), (r * cols.length + c) * e, e);
            }
        }
        return new DenseMatrix(out, clip);
    }

    /**
     * Writes the values, clipped, in the same dtype at {@code dst[offset...]}, releasing the pages
     * of a mapped source as it goes.
     */
    public void copyTo(MemorySegment dst, long offset) {
        MappedCopy.copy(values.data(), dst, offset);
        if (clip > 0) {
            long n = values.numel();
            Tensor view = new Tensor(values.shape(), dtype(), values.device(), dst.asSlice(offset, values.data().byteSize()));
            float bound = dtype().round((float) clip); // MAX rounds the bound to the weight's dtype first
            for (long i = 0; i < n; i++) {
                float v = view.getFloat(i);
                if (v > bound) { // NaN stays NaN, as torch.clamp leaves it
                    view.setFloat(i, bound);
                } else if (v < -bound) {
                    view.setFloat(i, -bound);
                }
            }
        }
    }
}

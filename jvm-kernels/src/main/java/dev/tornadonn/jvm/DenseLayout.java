package dev.tornadonn.jvm;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.NativeMemory;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.weights.DenseMatrix;
import java.util.List;

/**
 * A dense weight as the JVM kernels read it: its own aligned off-heap copy, in the checkpoint's
 * dtype, and for f16 the list of its subnormal weights, which the GEMV adds on the side.
 *
 * @param subnormals for F16, {@link F16Subnormals#find} of the weight; else null
 */
record DenseLayout(Tensor weight, F16Subnormals subnormals) implements KernelLayout {

    static DenseLayout of(List<DenseMatrix> blocks, DeviceRef device, String what) {
        DType dtype = blocks.get(0).dtype();
        long rows = 0;
        for (DenseMatrix b : blocks) {
            if (b.dtype() != dtype) {
                throw new ConfigException("dense blocks stacked into one must share a dtype: " + dtype + " and " + b.dtype());
            }
            rows += b.rows();
        }
        int cols = blocks.get(0).cols();
        Shape shape = Shape.of(Math.toIntExact(rows), cols);
        long bytes = Math.multiplyExact(shape.numel(), (long) dtype.byteSize());
        Tensor w = new Tensor(shape, dtype, device, NativeMemory.allocate(bytes, what));
        long at = 0;
        for (DenseMatrix b : blocks) {
            b.copyTo(w.data(), at);
            at += b.packedBytes();
        }
        return new DenseLayout(w, dtype == DType.F16 ? F16Subnormals.find(w.data(), shape.dim(0), cols) : null);
    }

    @Override
    public int rows() {
        return weight.shape().dim(0);
    }

    @Override
    public int cols() {
        return weight.shape().dim(1);
    }

    @Override
    public long bytes() {
        return weight.data().byteSize() + (subnormals == null ? 0 : subnormals.bytes());
    }
}

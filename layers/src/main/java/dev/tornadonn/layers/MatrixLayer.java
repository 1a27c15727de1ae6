package dev.tornadonn.layers;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;

/**
 * A layer that sees its input as an F32 {@code (M, in)} matrix, M being the product of the
 * leading dimensions, and maps it to {@code (M, out)}: the checks, the reshaping and the output
 * allocation every such layer shares.
 */
public abstract class MatrixLayer implements Layer {

    /** {@code y2d = layer(x2d)}: x2d F32 {@code (M, in)} on {@link #device()}, y2d F32 {@code (M, out)}, every element written. */
    protected abstract void apply(Tensor x2d, Tensor y2d);

    /** How errors name this layer, e.g. {@code Linear 'model.proj'}. */
    protected abstract String describe();

    @Override
    public Tensor forward(Tensor x) {
        Tensor x2d = Inputs.asMatrix(x, inDim(), device(), describe());
        Tensor y = Tensor.allocate(DType.F32, Shape.of(x2d.shape().dim(0), outDim()), device());
        apply(x2d, y);
        return y.reshape(x.shape().withLast(outDim()));
    }

    @Override
    public void forward(Tensor x, Tensor out) {
        Tensor x2d = Inputs.asMatrix(x, inDim(), device(), describe());
        Inputs.checkOutput(x, out, outDim(), describe());
        apply(x2d, out.reshape(x2d.shape().dim(0), outDim()));
    }

    /** {@code describe()} with the layer's name, if it has one. */
    protected static String named(String kind, String name) {
        return kind + (name == null || name.isEmpty() ? "" : " '" + name + "'");
    }
}

package dev.tornadonn.core;

/**
 * A named weight a layer declares: the key it is loaded from, and the dtype and shape the
 * checkpoint's tensor must have.
 */
public record Weight(String name, DType dtype, Shape shape, DeviceRef device) {

    /** Throws a {@link WeightLoadException} naming this key unless {@code t} matches the declaration. */
    public Tensor check(Tensor t) {
        if (t.dtype() != dtype) {
            throw new WeightLoadException("tensor '" + name + "' has dtype " + t.dtype() + ", expected " + dtype);
        }
        if (!t.shape().equals(shape)) {
            throw new WeightLoadException("tensor '" + name + "' has shape " + t.shape() + ", expected " + shape);
        }
        return t;
    }
}

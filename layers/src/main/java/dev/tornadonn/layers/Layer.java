package dev.tornadonn.layers;

import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Tensor;

/** A loaded layer: it maps an input {@code (..., in)} to an F32 output {@code (..., out)}. */
public interface Layer {

    DeviceRef device();

    /** The last dimension of an input. */
    int inDim();

    /** The last dimension of an output. */
    int outDim();

    /** A new F32 tensor {@code (..., out)}; leading dimensions of {@code x} are kept. */
    Tensor forward(Tensor x);

    /** Writes the output into {@code out}, an F32 tensor of shape {@code x.shape[:-1] + (out,)}. */
    void forward(Tensor x, Tensor out);
}

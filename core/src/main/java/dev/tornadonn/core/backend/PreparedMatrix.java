package dev.tornadonn.core.backend;

import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.weights.WeightKind;

/**
 * A weight (and its bias) in a backend's own layout on one device, made once by
 * {@link Backend#prepare} and only ever handed back to that backend. It holds the device's copy
 * of the weight and nothing else of it; {@link #close} frees what the device holds where the
 * backend manages that memory itself.
 */
public interface PreparedMatrix extends AutoCloseable {

    /** N, the output features. */
    int rows();

    /** K, the input features. */
    int cols();

    WeightKind kind();

    DeviceRef device();

    boolean hasBias();

    /** Bytes this prepared copy holds (weight, scales, zero points, bias, index tables). */
    long bytes();

    @Override
    default void close() {}
}

package dev.tornadonn.core.backend;

/** A quantised weight in a backend's own kernel layout, made by {@link Backend#prepareQuantized}. */
public interface PreparedMatrix {

    /** N, the output features. */
    int rows();

    /** K, the input features. */
    int cols();

    /** Bytes the kernels stream per product (codes, scales, zero points): what a GEMV must read. */
    long streamedBytes();
}

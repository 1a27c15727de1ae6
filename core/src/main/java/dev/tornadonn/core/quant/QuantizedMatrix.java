package dev.tornadonn.core.quant;

/**
 * A quantised weight {@code (rows = out, cols = in)} in a format-neutral form that layers build
 * from checkpoints and backends turn into their own kernel layouts, once, at load.
 */
public sealed interface QuantizedMatrix permits GroupQuantizedMatrix, Fp8Matrix {

    /** N, the output features. */
    int rows();

    /** K, the input features. */
    int cols();
}

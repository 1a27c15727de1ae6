package dev.tornadonn.layers.quant;

/**
 * MAX's {@code Float8ScaleGranularity}. For weights ROWWISE is one scale per output channel; for
 * inputs COLWISE is one scale per token (row of x). BLOCK is 2-D tiles; TENSOR one scalar.
 */
public enum Float8ScaleGranularity {
    TENSOR, ROWWISE, COLWISE, BLOCK
}

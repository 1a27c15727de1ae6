package dev.tornadonn.core.quant;

/** How an fp8 weight is scaled: one scale, one per output row, or one per (bn × bk) block. */
public sealed interface Fp8WeightScale {

    record PerTensor(float scale) implements Fp8WeightScale {}

    /** {@code scales[n]} for output row n. */
    record PerRow(float[] scales) implements Fp8WeightScale {}

    /** {@code scales[⌊n/bn⌋ · ceil(K/bk) + ⌊k/bk⌋]}. */
    record Block(int blockRows, int blockCols, float[] scales) implements Fp8WeightScale {}
}

package dev.tornadonn.core.quant;

import dev.tornadonn.core.numeric.Float8Format;

/**
 * How inputs become fp8 before the product. Dynamic scales are {@code min(max|x|, ub) / FMAX}
 * over their granularity (ub = +∞ when there is no upper bound); a static scale comes from the
 * checkpoint.
 */
public sealed interface Fp8InputQuantization {

    Float8Format format();

    record Static(Float8Format format, float scale) implements Fp8InputQuantization {}

    record DynamicPerTensor(Float8Format format, float upperBound) implements Fp8InputQuantization {}

    /** One scale per row of x (per token). */
    record DynamicPerToken(Float8Format format, float upperBound) implements Fp8InputQuantization {}

    /** One scale per row of x and block of {@code blockCols} columns. */
    record DynamicBlock(Float8Format format, int blockCols, float upperBound) implements Fp8InputQuantization {}
}

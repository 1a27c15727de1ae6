package dev.tornadonn.layers.quant;

/**
 * Where an input scale comes from: the checkpoint (STATIC) or each call's data (DYNAMIC); NONE
 * when x is not quantised at all (weight-only fp8, W8A16).
 */
public enum Float8ScaleOrigin {
    STATIC, DYNAMIC, NONE
}

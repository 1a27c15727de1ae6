package dev.tornadonn.layers.quant;

/** Where an input scale comes from: the checkpoint (STATIC) or each call's data (DYNAMIC). */
public enum Float8ScaleOrigin {
    STATIC, DYNAMIC
}

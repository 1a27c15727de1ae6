package dev.tornadonn.layers.quant;

import dev.tornadonn.core.ConfigException;
/** A scale tile: {@code rows} along M (input) or N (weight), {@code cols} along K. */
public record Float8BlockSize(int rows, int cols) {
    public Float8BlockSize {
        if (rows <= 0 || cols <= 0) {
            throw new ConfigException("block size must be two positive values, got (" + rows + ", " + cols + ")");
        }
    }

    @Override
    public String toString() {
        return "(" + rows + ", " + cols + ")";
    }
}

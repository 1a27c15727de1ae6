package dev.tornadonn.twins;

/** Weight {@code (row, col)} as a kernel decodes it: what the twins read instead of a device array. */
@FunctionalInterface
public interface TwinWeights {
    float at(int row, int col);
}

package dev.tornadonn.layers.sharding;

import dev.tornadonn.core.ConfigException;
/**
 * MAX's uneven split: {@code size} items over {@code parts} devices, the first
 * {@code size mod parts} devices taking one more. (vLLM and Megatron require divisibility.)
 */
public record Split(int size, int parts) {

    public Split {
        if (parts <= 0) {
            throw new ConfigException("cannot split over " + parts + " devices");
        }
        if (size < 0) {
            throw new ConfigException("cannot split a negative size " + size);
        }
    }

    public int length(int part) {
        check(part);
        return size / parts + (part < size % parts ? 1 : 0);
    }

    public int start(int part) {
        check(part);
        return part * (size / parts) + Math.min(part, size % parts);
    }

    public int end(int part) {
        return start(part) + length(part);
    }

    private void check(int part) {
        if (part < 0 || part >= parts) {
            throw new ConfigException("part " + part + " outside [0, " + parts + ")");
        }
    }
}

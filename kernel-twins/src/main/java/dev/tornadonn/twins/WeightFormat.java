package dev.tornadonn.twins;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.DType;

/**
 * The weight formats the device kernels read, as the int codes they take: a kernel argument is a
 * scalar TornadoVM folds into the compiled code, so the format branch costs nothing on the device.
 */
public final class WeightFormat {
    public static final int F32 = 0;
    public static final int BF16 = 1;
    public static final int F16 = 2;

    private WeightFormat() {}

    public static int of(DType dtype) {
        return switch (dtype) {
            case F32 -> F32;
            case BF16 -> BF16;
            case F16 -> F16;
            default -> throw new ConfigException("device kernels read F32, BF16 or F16 weights, not " + dtype);
        };
    }
}

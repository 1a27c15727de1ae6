package dev.tornadonn.twins;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.DType;

/**
 * The weight formats the device kernels read, as the int codes they take: a kernel argument is a
 * scalar TornadoVM folds into the compiled code, so the format branch costs nothing on the device.
 * Dense values ({@link #F32}, or {@link #BF16}/{@link #F16} bits) and packed codes ({@link #GPTQ},
 * {@link #E4M3FN}, {@link #E5M2}, {@link #INT8}, decoded by {@link QuantDecode}) share one code
 * space because one GEMV and one GEMM kernel read them all ({@link KernelWeight}).
 */
public final class WeightFormat {
    public static final int F32 = 0;
    public static final int BF16 = 1;
    public static final int F16 = 2;
    public static final int GPTQ = 3;
    public static final int E4M3FN = 4;
    public static final int E5M2 = 5;
    /** compressed-tensors' int8 codes (W8A8), four to an int like fp8's. */
    public static final int INT8 = 10;

    private WeightFormat() {}

    /** Whether the format is bf16 or fp16 bits, decoded with {@link HalfDecode} and its power table. */
    public static boolean isHalf(int format) {
        return format == BF16 || format == F16;
    }

    /** Whether the format is codes packed in ints, decoded with {@link QuantDecode}. */
    public static boolean isPacked(int format) {
        return format == GPTQ || isFp8(format) || format == INT8;
    }

    /** Whether the format is fp8 codes, decoded through {@link QuantDecode#fp8Table}. */
    public static boolean isFp8(int format) {
        return format == E4M3FN || format == E5M2;
    }

    public static int of(DType dtype) {
        return switch (dtype) {
            case F32 -> F32;
            case BF16 -> BF16;
            case F16 -> F16;
            default -> throw new ConfigException("device kernels read F32, BF16 or F16 weights, not " + dtype);
        };
    }
}

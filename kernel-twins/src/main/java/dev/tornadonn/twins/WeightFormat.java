package dev.tornadonn.twins;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.DType;
import dev.tornadonn.core.io.GgmlType;

/**
 * The weight formats the device kernels read, as the int codes they take: a kernel argument is a
 * scalar TornadoVM folds into the compiled code, so the format branch costs nothing on the device.
 * Dense values ({@link #F32}, or {@link #BF16}/{@link #F16} bits), packed codes ({@link #GPTQ},
 * {@link #E4M3FN}, {@link #E5M2}, {@link #INT8}, decoded by {@link QuantDecode}) and llama.cpp's
 * GGUF blocks ({@link #Q4_0}, {@link #Q8_0}, {@link #Q4_K}, {@link #Q6_K}, decoded by
 * {@link GgufDecode}) share one code space because one GEMV and one GEMM kernel read them all
 * ({@link KernelWeight}).
 */
public final class WeightFormat {
    public static final int F32 = 0;
    public static final int BF16 = 1;
    public static final int F16 = 2;
    public static final int GPTQ = 3;
    public static final int E4M3FN = 4;
    public static final int E5M2 = 5;
    public static final int Q4_0 = 6;
    public static final int Q8_0 = 7;
    public static final int Q4_K = 8;
    public static final int Q6_K = 9;
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

    /** Whether the format is GGUF blocks, their raw bytes packed in ints, decoded with {@link GgufDecode}. */
    public static boolean isGguf(int format) {
        return format >= Q4_0 && format <= Q6_K;
    }

    /** The kernels' lookup tables ({@code table}): {@link HalfDecode#powerTable}, {@link QuantDecode#fp8Table}, {@link GgufDecode#halfTable}. */
    public static final int POWER_TABLE = 0;
    public static final int FP8_TABLE = 1;
    public static final int F16_TABLE = 2;

    /**
     * The table a format's kernels read: powers for bf16/fp16 bits, fp8 values for fp8, f16 values
     * for GGUF's scales; f32, GPTQ and int8 read none and are given the powers.
     */
    public static int table(int format) {
        int t = POWER_TABLE;
        if (isGguf(format)) {
            t = F16_TABLE;
        } else if (isFp8(format)) {
            t = FP8_TABLE;
        }
        return t;
    }

    /** The values of table {@code table}. */
    public static float[] tableValues(int table) {
        return switch (table) {
            case POWER_TABLE -> HalfDecode.powerTable();
            case FP8_TABLE -> QuantDecode.fp8Table();
            case F16_TABLE -> GgufDecode.halfTable();
            default -> throw new IllegalArgumentException("no kernel table " + table);
        };
    }

    public static int of(DType dtype) {
        return switch (dtype) {
            case F32 -> F32;
            case BF16 -> BF16;
            case F16 -> F16;
            default -> throw new ConfigException("device kernels read F32, BF16 or F16 weights, not " + dtype);
        };
    }

    public static int of(GgmlType type) {
        return switch (type) {
            case Q4_0 -> Q4_0;
            case Q8_0 -> Q8_0;
            case Q4_K -> Q4_K;
            case Q6_K -> Q6_K;
            default -> throw new ConfigException("device kernels read GGUF Q4_0, Q8_0, Q4_K or Q6_K blocks, not " + type);
        };
    }
}

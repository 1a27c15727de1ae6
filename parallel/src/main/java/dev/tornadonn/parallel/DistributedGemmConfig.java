package dev.tornadonn.parallel;

import dev.tornadonn.core.ConfigException;
import java.util.Locale;

/**
 * Whether a tensor-parallel MLP fuses its down projection with the all-reduce.
 *
 * <p>{@link #generate()} reads {@code LLAMA_ENABLE_DIST_GEMM_KERNELS} like MAX, with one
 * difference: MAX applies Python truthiness to the string, so {@code "0"} and {@code "false"}
 * enable the fusion and only {@code ""} disables it. Here the value is parsed as a boolean
 * ({@code true/false}, {@code 1/0}, {@code yes/no}, {@code on/off}, any case); unset still means
 * enabled, and anything else is an error naming the variable.
 */
public record DistributedGemmConfig(boolean enableMatmulAllreduce) {
    public static final String ENVIRONMENT_VARIABLE = "LLAMA_ENABLE_DIST_GEMM_KERNELS";

    public static DistributedGemmConfig generate() {
        return fromValue(System.getenv(ENVIRONMENT_VARIABLE));
    }

    /** The config for a value of {@value #ENVIRONMENT_VARIABLE} (null when unset). */
    public static DistributedGemmConfig fromValue(String value) {
        if (value == null) {
            return new DistributedGemmConfig(true);
        }
        return switch (value.strip().toLowerCase(Locale.ROOT)) {
            case "true", "1", "yes", "on" -> new DistributedGemmConfig(true);
            case "false", "0", "no", "off", "" -> new DistributedGemmConfig(false);
            default -> throw new ConfigException(ENVIRONMENT_VARIABLE + "='" + value
                    + "' is not a boolean: use true/false, 1/0, yes/no or on/off");
        };
    }
}

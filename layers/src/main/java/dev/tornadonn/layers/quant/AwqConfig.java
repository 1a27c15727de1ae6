package dev.tornadonn.layers.quant;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.io.QuantizationConfig;
import java.util.Locale;

/**
 * An AWQ {@code quantization_config} as AutoAWQ and transformers write it for the GEMM layout
 * (the one vLLM runs): 4-bit codes with a zero point, {@code groupSize} input channels per group
 * (−1: one group over all of them). Other versions pack differently and are refused by name.
 */
public record AwqConfig(int groupSize) {
    /** AWQ's GEMM kernels pack 4-bit codes only (AutoAWQ and vLLM alike). */
    public static final int BITS = 4;

    public AwqConfig {
        if (groupSize != -1 && groupSize <= 0) {
            throw new ConfigException("AWQ group_size must be positive or -1, got " + groupSize);
        }
    }

    /** Channels per group for {@code inDim} input channels, which it must divide (AutoAWQ asserts it too). */
    public int effectiveGroupSize(int inDim) {
        return groupSize == -1 ? inDim : groupSize;
    }

    /**
     * Reads {@code quant_method: "awq"}, {@code bits} (4), {@code group_size}, {@code zero_point}
     * (true) and {@code version} ({@code gemm}, the default; AutoAWQ writes {@code GEMM}).
     */
    public static AwqConfig fromHuggingFace(QuantizationConfig q) {
        String method = q.method();
        if (!"awq".equals(method)) {
            throw new ConfigException("quantization_config.quant_method is '" + method + "', expected 'awq'");
        }
        String version = q.text("version", "gemm");
        if (!version.toLowerCase(Locale.ROOT).equals("gemm")) {
            throw new ConfigException(q.path() + ".version is '" + version + "': only AWQ's GEMM layout (qweight packed "
                    + "along the output features) is supported; " + version + " checkpoints pack their tensors differently");
        }
        int bits = q.integer("bits", BITS);
        if (bits != BITS) {
            throw new ConfigException(q.path() + ".bits is " + bits + ": AWQ GEMM checkpoints hold 4-bit codes");
        }
        if (!q.bool("zero_point", true)) {
            throw new ConfigException(q.path() + ".zero_point is false: AWQ GEMM checkpoints are read with their qzeros "
                    + "(AutoAWQ writes none without zero points)");
        }
        return new AwqConfig(q.integer("group_size", 128));
    }
}

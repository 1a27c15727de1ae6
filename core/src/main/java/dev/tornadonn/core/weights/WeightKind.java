package dev.tornadonn.core.weights;

/** The families of {@link WeightMatrix}: what a backend says it can run on a device. */
public enum WeightKind {
    /** F32, BF16 or F16 values. */
    DENSE("dense"),
    /** Integer codes with a scale and zero point per group of input features (GPTQ, AWQ, compressed-tensors pack-quantized). */
    GROUP_QUANTIZED("group-quantised (GPTQ, AWQ, pack-quantized)"),
    /** fp8 codes with weight scales and an input quantisation (FP8). */
    FP8("fp8"),
    /** llama.cpp's GGUF blocks (Q4_0, Q8_0, Q4_K, Q6_K), scales inside the blocks. */
    GGUF("gguf block-quantised (Q4_0, Q8_0, Q4_K, Q6_K)"),
    /** int8 codes with weight scales and inputs quantised to int8 (compressed-tensors W8A8). */
    INT8("int8 (W8A8)");

    private final String description;

    WeightKind(String description) {
        this.description = description;
    }

    @Override
    public String toString() {
        return description;
    }
}

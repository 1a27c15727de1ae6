package dev.tornadonn.reference;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.weights.WeightKind;

/** One layer configuration and input shape, checked on a device against the oracle. */
public sealed interface ConformanceCase permits LinearCase, MlpCase, GptqLinearCase, Fp8LinearCase, GgufLinearCase,
        Int8LinearCase, AwqLinearCase, PackQuantizedLinearCase, OnlineFp8LinearCase {

    /** The layer and format, e.g. {@code linear}, {@code mlp} or {@code awq-linear}. */
    String layer();

    /** The weights' storage dtype. */
    DType dtype();

    /** The weights' format for tables: the dtype's name, or the quantisation scheme. */
    default String weightFormat() {
        return dtype().name();
    }

    /** A compact description of the shapes and options, for tables and test names. */
    String shape();

    long seed();

    /** The kind of the layer's weights: a backend runs only the kinds it has kernels for. */
    default WeightKind weightKind() {
        return WeightKind.DENSE;
    }

    /** Whether the weights are quantised (GPTQ, FP8, GGUF, INT8) rather than dense. */
    default boolean quantized() {
        return weightKind() != WeightKind.DENSE;
    }

    /** Builds the layer on {@code device} through the public API, runs it, and compares with the oracle. */
    CaseResult run(DeviceRef device);
}

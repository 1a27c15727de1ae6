package dev.tornadonn.layers.quant;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.io.QuantizationConfig;
import java.util.Objects;

/**
 * An int8 W8A8 layer's quantisation, as compressed-tensors describes it and vLLM's
 * {@code CompressedTensorsW8A8Int8} runs it: symmetric int8 weights with one scale per tensor or
 * per output channel; inputs quantised to int8 with a static per-tensor scale (and zero point,
 * when asymmetric) from the checkpoint, or dynamically per token (row of x).
 *
 * @param symmetricInput whether x has no zero point
 */
public record Int8Scheme(WeightScale weightScale, InputScale inputScale, boolean symmetricInput) {

    /** compressed-tensors' weight {@code strategy}. */
    public enum WeightScale { TENSOR, CHANNEL }

    /** compressed-tensors' input {@code strategy}, with its {@code dynamic} flag. */
    public enum InputScale { STATIC_TENSOR, DYNAMIC_TOKEN }

    public Int8Scheme {
        Objects.requireNonNull(weightScale, "weightScale");
        Objects.requireNonNull(inputScale, "inputScale");
    }

    public static Int8Scheme of(WeightScale weights, InputScale inputs, boolean symmetricInput) {
        return new Int8Scheme(weights, inputs, symmetricInput);
    }

    /**
     * A Hugging Face {@code quantization_config} of {@code quant_method: compressed-tensors} with
     * int8 weights and activations (llm-compressor's W8A8 INT8), checked as vLLM checks it before
     * choosing its W8A8 int8 scheme; anything else is a {@link ConfigException} naming the field.
     */
    public static Int8Scheme fromCompressedTensors(QuantizationConfig q) {
        return CompressedTensorsInt8.map(q);
    }

    public boolean isStatic() {
        return inputScale == InputScale.STATIC_TENSOR;
    }

    /** e.g. {@code channel/token asym}. */
    @Override
    public String toString() {
        return weightScale.name().toLowerCase(java.util.Locale.ROOT) + "/"
                + (isStatic() ? "static" : "token") + (symmetricInput ? " sym" : " asym");
    }
}

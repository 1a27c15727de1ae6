package dev.tornadonn.layers.quant;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.DType;
import dev.tornadonn.core.io.QuantizationConfig;
import java.util.Objects;

/**
 * MAX's {@code Float8Config}, reduced to what one layer needs: how inputs and weights are scaled,
 * and the output dtype. Every input/weight granularity pair is executable (MAX runs only three);
 * the weight's fp8 format is the layer's weight dtype. Dynamic schemes quantise x to e4m3fn
 * whatever the weights (as vLLM and MAX do); a static input scale quantises x to the weight's format;
 * a weight-only config (W8A16) leaves x as it is.
 *
 * @param outputDType BF16 (MAX's only output: the f32 result rounded once), F16 or F32
 */
public record Float8Config(Float8InputScaleSpec inputScale, Float8WeightScaleSpec weightScale, DType outputDType) {

    public Float8Config {
        Objects.requireNonNull(inputScale, "inputScale");
        Objects.requireNonNull(weightScale, "weightScale");
        Objects.requireNonNull(outputDType, "outputDType");
        if (outputDType != DType.BF16 && outputDType != DType.F32 && outputDType != DType.F16) {
            throw new ConfigException("fp8 output dtype must be BF16, F16 or F32, got " + outputDType);
        }
    }

    /** With MAX's BF16 output. */
    public static Float8Config of(Float8InputScaleSpec inputScale, Float8WeightScaleSpec weightScale) {
        return new Float8Config(inputScale, weightScale, DType.BF16);
    }

    public Float8Config withOutputDType(DType dtype) {
        return new Float8Config(inputScale, weightScale, dtype);
    }

    public boolean isStatic() {
        return inputScale.isStatic();
    }

    public boolean isDynamic() {
        return inputScale.origin() == Float8ScaleOrigin.DYNAMIC;
    }

    /** Whether x is left unquantised: fp8 weights, activations in their own precision (W8A16). */
    public boolean isWeightOnly() {
        return inputScale.isWeightOnly();
    }

    /**
     * Maps a Hugging Face {@code quantization_config} object: {@code fp8} (DeepSeek-V3 style),
     * {@code fbgemm_fp8} or {@code compressed-tensors}. Output is BF16.
     *
     * @throws dev.tornadonn.core.ConfigException naming the field and value that is unknown or unsupported
     */
    public static Float8Config fromHuggingFace(QuantizationConfig quantizationConfig) {
        return HuggingFaceFloat8.map(quantizationConfig);
    }

    @Override
    public String toString() {
        return "fp8(input " + inputScale + ", weight " + weightScale + ", out " + outputDType + ")";
    }
}

package dev.tornadonn.layers.quant;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.io.TensorSource;
import dev.tornadonn.layers.Keys;
import dev.tornadonn.layers.LinearSpec;
import dev.tornadonn.layers.LinearWeights;
import java.util.Objects;

/**
 * A compressed-tensors int8 W8A8 {@code Linear(in_dim, out_dim)}: an I8 {@code (outDim, inDim)}
 * weight, its scales, and x quantised to int8 as {@code scheme} says; {@code name} prefixes the
 * keys. The output is F32.
 */
public record Int8LinearConfig(int inDim, int outDim, Int8Scheme scheme, DeviceRef device, boolean hasBias, String name)
        implements LinearSpec {

    public Int8LinearConfig {
        if (inDim <= 0 || outDim <= 0) {
            throw new ConfigException("inDim and outDim must be positive, got " + inDim + " and " + outDim);
        }
        Objects.requireNonNull(scheme, "scheme");
        Objects.requireNonNull(device, "device");
        name = name == null ? "" : name;
    }

    /** No bias, no name, cpu:0. */
    public static Int8LinearConfig of(int inDim, int outDim, Int8Scheme scheme) {
        return new Int8LinearConfig(inDim, outDim, scheme, DeviceRef.cpu(0), false, "");
    }

    public Int8LinearConfig withBias(boolean v) {
        return new Int8LinearConfig(inDim, outDim, scheme, device, v, name);
    }

    public Int8LinearConfig withName(String v) {
        return new Int8LinearConfig(inDim, outDim, scheme, device, hasBias, v);
    }

    public Int8LinearConfig withDevice(DeviceRef v) {
        return new Int8LinearConfig(inDim, outDim, scheme, v, hasBias, name);
    }

    /**
     * Reads {@code P.weight}, {@code P.weight_scale}, for static inputs {@code P.input_scale} and,
     * when asymmetric, {@code P.input_zero_point} (absent means 0, as compressed-tensors reads it),
     * and {@code P.bias} when hasBias; all-zero zero points of symmetric schemes (older
     * compressed-tensors wrote them) are accepted and checked. Strict: every problem is collected
     * into one exception and nothing is read.
     */
    @Override
    public LinearWeights read(TensorSource source) {
        return Int8Weights.read(this, source);
    }

    /**
     * Tensors in hand, checked like loaded ones: inputScale null unless static, inputZeroPoint
     * null unless static asymmetric (null there means 0), bias null unless hasBias.
     */
    public LinearWeights weightsOf(Tensor weight, Tensor weightScale, Tensor inputScale, Tensor inputZeroPoint, Tensor bias) {
        return Int8Weights.of(this, weight, weightScale, inputScale, inputZeroPoint, bias);
    }

    public String weightKey() {
        return Keys.join(name, "weight");
    }

    public String weightScaleKey() {
        return Keys.join(name, "weight_scale");
    }

    public String weightZeroPointKey() {
        return Keys.join(name, "weight_zero_point");
    }

    public String inputScaleKey() {
        return Keys.join(name, "input_scale");
    }

    public String inputZeroPointKey() {
        return Keys.join(name, "input_zero_point");
    }

    public String biasKey() {
        return Keys.join(name, "bias");
    }
}

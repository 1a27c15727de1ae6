package dev.tornadonn.layers.quant;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Weight;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.io.TensorSource;
import dev.tornadonn.layers.Keys;
import dev.tornadonn.layers.LinearSpec;
import dev.tornadonn.layers.LinearWeights;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * MAX's {@code Linear(in_dim, out_dim, dtype=float8, float8_config=…)}. The weight is
 * {@code (outDim, inDim)} of {@code weightDType} (F8_E4M3FN or F8_E5M2); {@code name} prefixes the
 * keys. {@code clipWeight} exists only to be refused: MAX silently ignores it on fp8, clipping fp8
 * codes is not meaningful, so anything but 0 is an error here.
 */
public record Fp8LinearConfig(int inDim, int outDim, DType weightDType, Float8Config float8, DeviceRef device,
                              boolean hasBias, String name, double clipWeight) implements LinearSpec {

    public Fp8LinearConfig {
        if (inDim <= 0 || outDim <= 0) {
            throw new ConfigException("inDim and outDim must be positive, got " + inDim + " and " + outDim);
        }
        Objects.requireNonNull(weightDType, "weightDType");
        Objects.requireNonNull(float8, "float8");
        Objects.requireNonNull(device, "device");
        if (weightDType != DType.F8_E4M3FN && weightDType != DType.F8_E5M2) {
            throw new ConfigException("fp8 Linear weights must be F8_E4M3FN or F8_E5M2, got " + weightDType);
        }
        if (clipWeight != 0) {
            throw new ConfigException("clip_weight=" + clipWeight
                    + " is not applicable to fp8 weights (MAX ignores it on this path); use 0");
        }
        name = name == null ? "" : name;
    }

    public static Fp8LinearConfig of(int inDim, int outDim, DType weightDType, Float8Config float8) {
        return new Fp8LinearConfig(inDim, outDim, weightDType, float8, DeviceRef.cpu(0), false, "", 0);
    }

    public Fp8LinearConfig withBias(boolean v) {
        return new Fp8LinearConfig(inDim, outDim, weightDType, float8, device, v, name, clipWeight);
    }

    public Fp8LinearConfig withName(String v) {
        return new Fp8LinearConfig(inDim, outDim, weightDType, float8, device, hasBias, v, clipWeight);
    }

    public Fp8LinearConfig withDevice(DeviceRef v) {
        return new Fp8LinearConfig(inDim, outDim, weightDType, float8, v, hasBias, name, clipWeight);
    }

    /**
     * Reads {@code P.weight}, {@code P.weight_scale} (or {@code P.weight_scale_inv}),
     * {@code P.input_scale} (or {@code P.activation_scale}; static inputs only) and {@code P.bias} (when hasBias), strictly: every
     * problem is collected into one exception and nothing is read.
     */
    @Override
    public LinearWeights read(TensorSource source) {
        return Fp8Weights.read(this, source);
    }

    /** Tensors in hand (inputScale null unless static, bias null unless hasBias), checked like loaded ones. */
    public LinearWeights weightsOf(Tensor weight, Tensor weightScale, Tensor inputScale, Tensor bias) {
        return Fp8Weights.of(this, weight, weightScale, inputScale, bias);
    }

    /** The float8 config's output dtype: BF16 as MAX gives, or F32. */
    @Override
    public DType outputDType() {
        return float8.outputDType();
    }

    public String weightKey() {
        return Keys.join(name, "weight");
    }

    public String weightScaleKey() {
        return Keys.join(name, "weight_scale");
    }

    /** DeepSeek-V3 / HF "fp8" checkpoints' name for the same multiplier. */
    public String weightScaleInvKey() {
        return Keys.join(name, "weight_scale_inv");
    }

    public String inputScaleKey() {
        return Keys.join(name, "input_scale");
    }

    /** transformers' FineGrainedFP8 name for the static input scale. */
    public String activationScaleKey() {
        return Keys.join(name, "activation_scale");
    }

    public String biasKey() {
        return Keys.join(name, "bias");
    }

    /**
     * The declared tensors in their canonical form: scales F32 (BF16 is accepted too), the weight
     * scale under {@code weight_scale} (or {@code weight_scale_inv}), bias BF16 (F16, F32 accepted).
     */
    public List<Weight> weights() {
        List<Weight> w = new ArrayList<>();
        w.add(new Weight(weightKey(), weightDType, Shape.of(outDim, inDim), device));
        w.add(new Weight(weightScaleKey(), DType.F32, float8.weightScale().scaleShape(outDim, inDim), device));
        if (float8.isStatic()) {
            w.add(new Weight(inputScaleKey(), DType.F32, Shape.of(), device));
        }
        if (hasBias) {
            w.add(new Weight(biasKey(), DType.BF16, Shape.of(outDim), device));
        }
        return List.copyOf(w);
    }

    /** A builder: no bias, no name, cpu:0. */
    public static Builder builder(int inDim, int outDim, DType weightDType, Float8Config float8) {
        return new Builder(inDim, outDim, weightDType, float8);
    }

    public static final class Builder {
        private final int inDim;
        private final int outDim;
        private final DType weightDType;
        private final Float8Config float8;
        private DeviceRef device = DeviceRef.cpu(0);
        private boolean hasBias;
        private String name = "";

        private Builder(int inDim, int outDim, DType weightDType, Float8Config float8) {
            this.inDim = inDim;
            this.outDim = outDim;
            this.weightDType = weightDType;
            this.float8 = float8;
        }

        public Builder device(DeviceRef v) { this.device = v; return this; }
        public Builder hasBias(boolean v) { this.hasBias = v; return this; }
        public Builder name(String v) { this.name = v; return this; }

        public Fp8LinearConfig build() {
            return new Fp8LinearConfig(inDim, outDim, weightDType, float8, device, hasBias, name, 0);
        }
    }
}

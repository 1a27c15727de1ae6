package dev.tornadonn.layers;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.Weight;
import dev.tornadonn.core.io.TensorSource;
import dev.tornadonn.core.weights.DenseMatrix;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * What MAX's {@code Linear(in_dim, out_dim, dtype, device, has_bias, name, clip_weight)} takes.
 * A dimension may be 0: a shard of a layer split over more devices than it has rows is empty.
 * The weight is {@code (outDim, inDim)} and the bias {@code (outDim,)}, both of {@code dtype};
 * {@code name} prefixes their keys ({@code name.weight}); {@code clipWeight} 0 means no clipping.
 */
public record LinearConfig(int inDim, int outDim, DType dtype, DeviceRef device, boolean hasBias,
                           String name, double clipWeight) implements LinearSpec {

    public LinearConfig {
        if (inDim < 0 || outDim < 0) {
            throw new ConfigException("inDim and outDim must be >= 0, got " + inDim + " and " + outDim);
        }
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(device, "device");
        if (dtype != DType.F32 && dtype != DType.BF16 && dtype != DType.F16) {
            throw new ConfigException("Linear weights must be F32, BF16 or F16, got " + dtype);
        }
        if (!(clipWeight >= 0) || Double.isInfinite(clipWeight)) {
            throw new ConfigException("clipWeight must be a finite value >= 0 (0 means off), got " + clipWeight);
        }
        name = name == null ? "" : name;
    }

    public static Builder builder(int inDim, int outDim) {
        return new Builder(inDim, outDim);
    }

    public String weightKey() {
        return Keys.join(name, "weight");
    }

    public String biasKey() {
        return Keys.join(name, "bias");
    }

    /** The declared tensors, in checkpoint-key form. */
    public List<Weight> weights() {
        List<Weight> w = new ArrayList<>();
        w.add(new Weight(weightKey(), dtype, Shape.of(outDim, inDim), device));
        if (hasBias) {
            w.add(new Weight(biasKey(), dtype, Shape.of(outDim), device));
        }
        return List.copyOf(w);
    }

    /** Reads {@code name.weight} (and {@code .bias}) strictly: any mismatch fails and reads nothing. */
    @Override
    public LinearWeights read(TensorSource source) {
        Map<String, Tensor> t = StrictLoader.load(source, name, weights());
        return new LinearWeights(name, new DenseMatrix(t.get(weightKey()), clipWeight), t.get(biasKey()),
                weights().stream().map(Weight::name).collect(Collectors.toSet()));
    }

    /** Tensors in hand, checked against this config like loaded ones. */
    public LinearWeights weightsOf(Tensor weight, Tensor bias) {
        List<Weight> declared = weights();
        declared.get(0).check(weight);
        if (hasBias != (bias != null)) {
            throw new ConfigException("config says hasBias=" + hasBias + " but bias is "
                    + (bias == null ? "absent" : "present"));
        }
        if (bias != null) {
            declared.get(1).check(bias);
        }
        return new LinearWeights(name, new DenseMatrix(weight, clipWeight), bias, java.util.Set.of());
    }

    public static final class Builder {
        private final int inDim;
        private final int outDim;
        private DType dtype = DType.F32;
        private DeviceRef device = DeviceRef.cpu(0);
        private boolean hasBias;
        private String name = "";
        private double clipWeight;

        private Builder(int inDim, int outDim) {
            this.inDim = inDim;
            this.outDim = outDim;
        }

        public Builder dtype(DType v) { this.dtype = v; return this; }
        public Builder device(DeviceRef v) { this.device = v; return this; }
        public Builder hasBias(boolean v) { this.hasBias = v; return this; }
        public Builder name(String v) { this.name = v; return this; }
        public Builder clipWeight(double v) { this.clipWeight = v; return this; }

        public LinearConfig build() {
            return new LinearConfig(inDim, outDim, dtype, device, hasBias, name, clipWeight);
        }
    }
}

package dev.tornadonn.layers;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Weight;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What MAX's {@code Linear(in_dim, out_dim, dtype, device, has_bias, name, clip_weight)} takes.
 * A dimension may be 0: a shard of a layer split over more devices than it has rows is empty.
 * The weight is {@code (outDim, inDim)} and the bias {@code (outDim,)}, both of {@code dtype};
 * {@code name} prefixes their keys ({@code name.weight}); {@code clipWeight} 0 means no clipping.
 */
public record LinearConfig(int inDim, int outDim, DType dtype, DeviceRef device, boolean hasBias,
                           String name, double clipWeight) {

    public LinearConfig {
        if (inDim < 0 || outDim < 0) {
            throw new IllegalArgumentException("inDim and outDim must be >= 0, got " + inDim + " and " + outDim);
        }
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(device, "device");
        if (dtype != DType.F32 && dtype != DType.BF16 && dtype != DType.F16) {
            throw new IllegalArgumentException("Linear weights must be F32, BF16 or F16, got " + dtype);
        }
        WeightClipping.validate(clipWeight);
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

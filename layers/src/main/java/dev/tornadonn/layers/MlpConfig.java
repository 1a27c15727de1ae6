package dev.tornadonn.layers;

import dev.tornadonn.core.Activation;
import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Weight;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * MAX's gated {@code MLP}: {@code down_proj(act(gate_proj(x)) · up_proj(x))}, with gate and up
 * {@code (feedForwardDim, hiddenDim)} and down {@code (hiddenDim, feedForwardDim)}. {@code name}
 * prefixes the keys ({@code name.gate_proj.weight}); {@code clipWeight} applies to all three
 * projections (MAX silently ignores it on its fused path).
 */
public record MlpConfig(int hiddenDim, int feedForwardDim, DType dtype, DeviceRef device, boolean hasBias,
                        Activation activation, String name, double clipWeight) {

    public MlpConfig {
        Objects.requireNonNull(activation, "activation");
        name = name == null ? "" : name;
        // The projections validate dims, dtype, device and clip.
        new LinearConfig(hiddenDim, feedForwardDim, dtype, device, hasBias, name, clipWeight);
    }

    public static Builder builder(int hiddenDim, int feedForwardDim) {
        return new Builder(hiddenDim, feedForwardDim);
    }

    public LinearConfig gateProj() {
        return projection("gate_proj", hiddenDim, feedForwardDim);
    }

    public LinearConfig upProj() {
        return projection("up_proj", hiddenDim, feedForwardDim);
    }

    public LinearConfig downProj() {
        return projection("down_proj", feedForwardDim, hiddenDim);
    }

    private LinearConfig projection(String sub, int in, int out) {
        return new LinearConfig(in, out, dtype, device, hasBias, Keys.join(name, sub), clipWeight);
    }

    /** The three projections, read strictly: any missing, unexpected or mismatched key fails and reads nothing. */
    public MlpWeights read(dev.tornadonn.core.io.TensorSource source) {
        StrictLoader.load(source, name, weights()); // every problem of all three at once
        return MlpWeights.read(source, name, p -> projection(p).read(source));
    }

    private LinearConfig projection(String key) {
        return key.equals(gateProj().name()) ? gateProj() : key.equals(upProj().name()) ? upProj() : downProj();
    }

    public List<Weight> weights() {
        List<Weight> w = new ArrayList<>(gateProj().weights());
        w.addAll(upProj().weights());
        w.addAll(downProj().weights());
        return List.copyOf(w);
    }

    public static final class Builder {
        private final int hiddenDim;
        private final int feedForwardDim;
        private DType dtype = DType.F32;
        private DeviceRef device = DeviceRef.cpu(0);
        private boolean hasBias;
        private Activation activation = Activation.SILU;
        private String name = "";
        private double clipWeight;

        private Builder(int hiddenDim, int feedForwardDim) {
            this.hiddenDim = hiddenDim;
            this.feedForwardDim = feedForwardDim;
        }

        public Builder dtype(DType v) { this.dtype = v; return this; }
        public Builder device(DeviceRef v) { this.device = v; return this; }
        public Builder hasBias(boolean v) { this.hasBias = v; return this; }
        public Builder activation(Activation v) { this.activation = v; return this; }
        /** By config name; an unknown name is an error that lists the valid ones. */
        public Builder activation(String v) { this.activation = Activation.fromName(v); return this; }
        public Builder name(String v) { this.name = v; return this; }
        public Builder clipWeight(double v) { this.clipWeight = v; return this; }

        public MlpConfig build() {
            return new MlpConfig(hiddenDim, feedForwardDim, dtype, device, hasBias, activation, name, clipWeight);
        }
    }
}

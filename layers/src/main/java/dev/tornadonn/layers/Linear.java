package dev.tornadonn.layers;

import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.Weight;
import dev.tornadonn.core.backend.Backend;
import dev.tornadonn.core.backend.Backends;
import dev.tornadonn.core.io.TensorSource;
import java.util.List;
import java.util.Map;

/**
 * {@code y = x · Wᵀ + b}, MAX's {@code Linear}: W is {@code (out, in)}, x any rank ≥ 1 with
 * last dimension {@code in}; leading dimensions are kept. Weights are checked, clipped and moved
 * to the device once, at load; the output is F32.
 */
public final class Linear extends MatrixLayer {
    private final LinearConfig config;
    private final LinearOp op;

    private Linear(LinearConfig config, LinearOp op) {
        this.config = config;
        this.op = op;
    }

    /** Loads {@code config.name().weight} (and {@code .bias}) strictly: any mismatch fails and loads nothing. */
    public static Linear load(LinearConfig config, TensorSource source) {
        Map<String, Tensor> t = StrictLoader.load(source, config.name(), config.weights());
        return of(config, t.get(config.weightKey()), t.get(config.biasKey()));
    }

    /** Builds the layer from tensors in hand; they are checked against the config like loaded ones. */
    public static Linear of(LinearConfig config, Tensor weight, Tensor bias) {
        List<Weight> declared = config.weights();
        declared.get(0).check(weight);
        if (config.hasBias() != (bias != null)) {
            throw new IllegalArgumentException("config says hasBias=" + config.hasBias() + " but bias is "
                    + (bias == null ? "absent" : "present"));
        }
        if (bias != null) {
            declared.get(1).check(bias);
        }
        Backend backend = Backends.forDevice(config.device());
        Tensor clipped = WeightClipping.clip(weight, config.clipWeight());
        return new Linear(config, LinearOp.prepare(backend, config.device(), clipped, bias));
    }

    public LinearConfig config() {
        return config;
    }

    @Override
    public List<Weight> weights() {
        return config.weights();
    }

    @Override
    public int inDim() {
        return config.inDim();
    }

    @Override
    public int outDim() {
        return config.outDim();
    }

    @Override
    public DeviceRef device() {
        return config.device();
    }

    @Override
    protected void apply(Tensor x2d, Tensor y2d) {
        op.apply(x2d, y2d);
    }

    @Override
    protected String describe() {
        return named("Linear", config.name());
    }

    @Override
    public String toString() {
        return describe() + "(" + config.inDim() + " -> " + config.outDim() + ", " + config.dtype()
                + (config.hasBias() ? ", bias" : "") + ", " + config.device() + ", " + op.backend().name() + ")";
    }
}

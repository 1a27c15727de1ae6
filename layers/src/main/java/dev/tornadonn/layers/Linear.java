package dev.tornadonn.layers;

import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.Weight;
import dev.tornadonn.core.backend.Backend;
import dev.tornadonn.core.backend.Backends;
import dev.tornadonn.core.io.TensorSource;
import dev.tornadonn.layers.sharding.ShardingStrategy;
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
    private final ShardingStrategy strategy;

    private Linear(LinearConfig config, LinearOp op, ShardingStrategy strategy) {
        this.config = config;
        this.op = op;
        this.strategy = strategy;
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
        return new Linear(config, LinearOp.prepare(backend, config.device(), clipped, bias), null);
    }

    public LinearConfig config() {
        return config;
    }

    /** The weight as the kernels use it (clipped), in host memory. */
    public Tensor hostWeight() {
        return op.hostWeight();
    }

    /** The bias in host memory, or null. */
    public Tensor hostBias() {
        return op.hostBias();
    }

    /** This layer, with the same weights, to be cut by {@code s} on {@link #shard}. */
    public Linear withShardingStrategy(ShardingStrategy s) {
        return new Linear(config, op, java.util.Objects.requireNonNull(s, "strategy"));
    }

    /** The strategy {@link #shard} uses, or null. */
    public ShardingStrategy shardingStrategy() {
        return strategy;
    }

    /**
     * One layer per device, each with its shard of the weight and bias (see
     * {@link ShardingStrategy#shardBias}: where the input features are split, only the first
     * shard adds the bias, so that the reduced sum has it once). The device list must match the
     * strategy's device count, and be distinct.
     */
    public List<Linear> shard(List<DeviceRef> devices) {
        if (strategy == null) {
            throw new IllegalStateException(describe() + " cannot be sharded: no sharding strategy set");
        }
        Sharding.checkDevices(devices, strategy.numDevices(), describe());
        List<Linear> shards = new java.util.ArrayList<>();
        for (int i = 0; i < devices.size(); i++) {
            Tensor w = strategy.shard(op.hostWeight(), i);
            Tensor b = op.hostBias() == null ? null : strategy.shardBias(op.hostBias(), i);
            LinearConfig c = new LinearConfig(w.shape().dim(1), w.shape().dim(0), config.dtype(), devices.get(i), b != null,
                    config.name(), 0);
            shards.add(of(c, w, b));
        }
        return List.copyOf(shards);
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

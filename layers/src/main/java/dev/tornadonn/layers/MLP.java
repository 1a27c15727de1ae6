package dev.tornadonn.layers;

import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.Weight;
import dev.tornadonn.core.backend.Backend;
import dev.tornadonn.core.backend.Backends;
import dev.tornadonn.core.io.TensorSource;
import dev.tornadonn.layers.sharding.ShardingStrategy;
import java.util.List;
import java.util.Map;

/**
 * The gated feed-forward block. Gate and up are concatenated once, at load, into one
 * {@code (2F, hidden)} weight, so a forward is two GEMMs and one gated activation; unlike MAX's
 * fused path it takes inputs of any rank ≥ 1 and honours clipping and every bias.
 */
public final class MLP extends MatrixLayer {
    private final MlpConfig config;
    private final LinearOp gateUp;
    private final LinearOp down;
    private final ShardingStrategy strategy;

    private MLP(MlpConfig config, LinearOp gateUp, LinearOp down, ShardingStrategy strategy) {
        this.config = config;
        this.gateUp = gateUp;
        this.down = down;
        this.strategy = strategy;
    }

    /** Loads the three projections strictly: any missing, unexpected or mismatched key fails and loads nothing. */
    public static MLP load(MlpConfig config, TensorSource source) {
        Map<String, Tensor> t = StrictLoader.load(source, config.name(), config.weights());
        LinearConfig g = config.gateProj();
        LinearConfig u = config.upProj();
        LinearConfig d = config.downProj();
        Tensor gateW = WeightClipping.clip(t.get(g.weightKey()), config.clipWeight());
        Tensor upW = WeightClipping.clip(t.get(u.weightKey()), config.clipWeight());
        Tensor downW = WeightClipping.clip(t.get(d.weightKey()), config.clipWeight());
        Backend backend = Backends.forDevice(config.device());
        Tensor fusedW = concatRows(gateW, upW);
        Tensor fusedB = config.hasBias() ? concatRows(t.get(g.biasKey()), t.get(u.biasKey())) : null;
        return new MLP(config,
                LinearOp.prepare(backend, config.device(), fusedW, fusedB),
                LinearOp.prepare(backend, config.device(), downW, config.hasBias() ? t.get(d.biasKey()) : null), null);
    }

    private static Tensor concatRows(Tensor a, Tensor b) {
        int[] dims = a.shape().dims();
        dims[0] += b.shape().dim(0);
        Tensor out = Tensor.allocate(a.dtype(), Shape.of(dims));
        out.data().asSlice(0, a.data().byteSize()).copyFrom(a.data());
        out.data().asSlice(a.data().byteSize()).copyFrom(b.data());
        return out;
    }

    public MlpConfig config() {
        return config;
    }

    /** This MLP, same weights, to be cut by {@code s} on {@link #shard}: tensor-parallel or replicate. */
    public MLP withShardingStrategy(ShardingStrategy s) {
        if (!(s instanceof ShardingStrategy.TensorParallel) && !(s instanceof ShardingStrategy.Replicate)) {
            throw new IllegalArgumentException("an MLP shards tensor-parallel or replicated, not " + s);
        }
        return new MLP(config, gateUp, down, s);
    }

    public ShardingStrategy shardingStrategy() {
        return strategy;
    }

    /**
     * One MLP per device. Tensor-parallel: gate and up split along the intermediate size (their
     * biases alike), down along its input, with down's bias on the first shard only, so the
     * shards' outputs are partial sums whose all-reduce is the whole MLP. Replicate: whole copies.
     */
    public List<MLP> shard(List<DeviceRef> devices) {
        if (strategy == null) {
            throw new IllegalStateException(describe() + " cannot be sharded: no sharding strategy set");
        }
        Sharding.checkDevices(devices, strategy.numDevices(), describe());
        int n = devices.size();
        ShardingStrategy gu = strategy instanceof ShardingStrategy.Replicate ? strategy : new ShardingStrategy.GateUp(n, 0);
        ShardingStrategy dn = strategy instanceof ShardingStrategy.Replicate ? strategy : ShardingStrategy.columnwise(n);
        List<MLP> shards = new java.util.ArrayList<>();
        for (int i = 0; i < n; i++) {
            DeviceRef dev = devices.get(i);
            Tensor guW = gu.shard(gateUp.hostWeight(), i);
            int ffn = guW.shape().dim(0) / 2;
            Tensor guB = gateUp.hostBias() == null ? null : gu.shardBias(gateUp.hostBias(), i);
            Tensor dW = dn.shard(down.hostWeight(), i);
            Tensor dB = down.hostBias() == null ? null : dn.shardBias(down.hostBias(), i);
            Backend backend = Backends.forDevice(dev);
            MlpConfig c = new MlpConfig(config.hiddenDim(), ffn, config.dtype(), dev, config.hasBias(), config.activation(),
                    config.name(), 0);
            shards.add(new MLP(c, LinearOp.prepare(backend, dev, guW, guB), LinearOp.prepare(backend, dev, dW, dB), null));
        }
        return List.copyOf(shards);
    }

    /**
     * {@code act(gate(x)) · up(x)}, F32 {@code (..., F)}: the down projection's input, for callers
     * that fuse the down projection with a reduction (see {@link #downProjectionWithoutBias}).
     */
    public Tensor hiddenActivations(Tensor x) {
        Tensor x2d = Inputs.asMatrix(x, config.hiddenDim(), config.device(), describe());
        return hidden(x2d).reshape(x.shape().withLast(config.feedForwardDim()));
    }

    /** {@code y2d = h2d · W_downᵀ}, F32 {@code (M, hidden)}, without the bias: for a fused matmul + all-reduce. */
    public void downProjectionWithoutBias(Tensor h2d, Tensor y2d) {
        new LinearOp(down.backend(), down.device(), down.weight(), null).apply(h2d, y2d);
    }

    /** The down projection's bias in host memory, or null (on shards past the first, always null). */
    public Tensor downBias() {
        return down.hostBias();
    }

    @Override
    public List<Weight> weights() {
        return config.weights();
    }

    @Override
    public int inDim() {
        return config.hiddenDim();
    }

    @Override
    public int outDim() {
        return config.hiddenDim();
    }

    @Override
    public DeviceRef device() {
        return config.device();
    }

    @Override
    protected void apply(Tensor x2d, Tensor y2d) {
        gateUp.backend().gatedMlp(config.activation(), x2d, gateUp.weight(), gateUp.bias(), down.weight(), down.bias(), y2d);
    }

    /** {@code act(gate) · up}, F32 {@code (M, F)}. */
    private Tensor hidden(Tensor x2d) {
        return gateUp.backend().gatedHidden(config.activation(), x2d, gateUp.weight(), gateUp.bias());
    }

    @Override
    protected String describe() {
        return named("MLP", config.name());
    }

    @Override
    public String toString() {
        return describe() + "(" + config.hiddenDim() + " -> " + config.feedForwardDim() + " -> " + config.hiddenDim()
                + ", " + config.activation().configName() + ", " + config.dtype() + (config.hasBias() ? ", bias" : "")
                + ", " + config.device() + ", " + gateUp.backend().name() + ")";
    }
}

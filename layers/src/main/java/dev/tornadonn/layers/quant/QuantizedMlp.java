package dev.tornadonn.layers.quant;

import dev.tornadonn.core.Activation;
import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.Weight;
import dev.tornadonn.core.WeightLoadException;
import dev.tornadonn.core.backend.Backends;
import dev.tornadonn.core.io.TensorSource;
import dev.tornadonn.layers.Keys;
import dev.tornadonn.layers.MatrixLayer;
import dev.tornadonn.layers.sharding.ShardingStrategy;
import dev.tornadonn.layers.Layer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * The gated MLP over quantised projections: {@code down(act(gate(x)) · up(x))} with gate, up and
 * down each any {@link Layer} (GPTQ, FP8), quantised alike. Gate and up stay two products, as in
 * MAX's quantised path.
 */
public final class QuantizedMlp extends MatrixLayer {
    private final Layer gate;
    private final Layer up;
    private final Layer down;
    private final Activation activation;
    private final int hidden;
    private final int ffn;

    private QuantizedMlp(Layer gate, Layer up, Layer down, Activation activation, int hidden, int ffn) {
        this.gate = gate;
        this.up = up;
        this.down = down;
        this.activation = activation;
        this.hidden = hidden;
        this.ffn = ffn;
    }

    /**
     * Loads {@code prefix.gate_proj}, {@code prefix.up_proj} and {@code prefix.down_proj} with
     * {@code loader} (given each projection's prefix), then rejects any other key under
     * {@code prefix} and projections whose dimensions do not chain.
     */
    public static QuantizedMlp load(String prefix, Activation activation, TensorSource source,
                                    Function<String, Layer> loader) {
        Layer gate = loader.apply(Keys.join(prefix, "gate_proj"));
        Layer up = loader.apply(Keys.join(prefix, "up_proj"));
        Layer down = loader.apply(Keys.join(prefix, "down_proj"));
        Set<String> expected = new HashSet<>();
        for (Layer l : List.of(gate, up, down)) {
            l.weights().forEach(w -> expected.add(w.name()));
        }
        List<String> unexpected = source.names().stream().filter(n -> Keys.isUnder(n, prefix) && !expected.contains(n)).toList();
        if (!unexpected.isEmpty()) {
            throw new WeightLoadException(source.describe() + ": unexpected key" + (unexpected.size() > 1 ? "s " : " ")
                    + String.join(", ", unexpected.stream().map(n -> "'" + n + "'").toList())
                    + (prefix == null || prefix.isEmpty() ? "" : " under prefix '" + prefix + "'"));
        }
        int hidden = gate.inDim();
        int ffn = gate.outDim();
        if (up.inDim() != hidden || up.outDim() != ffn || down.inDim() != ffn || down.outDim() != hidden) {
            throw new WeightLoadException(source.describe() + ": MLP projections do not chain: gate " + hidden + " -> " + ffn
                    + ", up " + up.inDim() + " -> " + up.outDim() + ", down " + down.inDim() + " -> " + down.outDim());
        }
        return new QuantizedMlp(gate, up, down, activation, hidden, ffn);
    }

    /**
     * Tensor-parallel shards, one per device: gate and up cut along the intermediate size, down
     * along its input with its bias on the first shard only, so the shards' outputs are partial
     * sums whose all-reduce is this MLP. Each projection is cut in its own quantised form (see
     * {@link GptqLinear#shard} and {@link Fp8Linear#shard} for what they refuse).
     */
    public List<QuantizedMlp> shard(List<DeviceRef> devices) {
        int n = devices.size();
        List<? extends Layer> gates = shardProjection(gate, ShardingStrategy.rowwise(n), devices);
        List<? extends Layer> ups = shardProjection(up, ShardingStrategy.rowwise(n), devices);
        List<? extends Layer> downs = shardProjection(down, ShardingStrategy.columnwise(n), devices);
        List<QuantizedMlp> shards = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            shards.add(new QuantizedMlp(gates.get(i), ups.get(i), downs.get(i), activation, hidden, gates.get(i).outDim()));
        }
        return List.copyOf(shards);
    }

    private static List<? extends Layer> shardProjection(Layer l, ShardingStrategy s, List<DeviceRef> devices) {
        return switch (l) {
            case GptqLinear g -> g.withShardingStrategy(s).shard(devices);
            case Fp8Linear f -> f.withShardingStrategy(s).shard(devices);
            default -> throw new IllegalArgumentException("cannot shard a projection of type " + l.getClass().getSimpleName());
        };
    }

    @Override
    public List<Weight> weights() {
        List<Weight> w = new ArrayList<>(gate.weights());
        w.addAll(up.weights());
        w.addAll(down.weights());
        return List.copyOf(w);
    }

    @Override
    public int inDim() {
        return hidden;
    }

    @Override
    public int outDim() {
        return hidden;
    }

    @Override
    public DeviceRef device() {
        return gate.device();
    }

    @Override
    protected void apply(Tensor x2d, Tensor y2d) {
        down.forward(hidden(x2d), y2d);
    }

    @Override
    protected String describe() {
        return "MLP";
    }

    /** {@code act(gate) · up}: the two projections side by side, then the backend's gated activation. */
    private Tensor hidden(Tensor x2d) {
        int m = x2d.shape().dim(0);
        Tensor gu = Tensor.allocate(DType.F32, Shape.of(m, 2 * ffn), device());
        Tensor g = gate.forward(x2d);
        Tensor u = up.forward(x2d);
        long row = 4L * ffn;
        for (int i = 0; i < m; i++) {
            gu.data().asSlice(2 * row * i, row).copyFrom(g.data().asSlice(row * i, row));
            gu.data().asSlice(2 * row * i + row, row).copyFrom(u.data().asSlice(row * i, row));
        }
        Tensor h = Tensor.allocate(DType.F32, Shape.of(m, ffn), device());
        Backends.forDevice(device()).gatedActivation(activation, gu, h);
        return h;
    }

    @Override
    public String toString() {
        return "QuantizedMlp(" + hidden + " -> " + ffn + " -> " + hidden + ", " + activation.configName() + ", gate " + gate + ")";
    }
}

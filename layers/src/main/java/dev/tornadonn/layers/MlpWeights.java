package dev.tornadonn.layers;

import dev.tornadonn.core.WeightLoadException;
import dev.tornadonn.core.io.TensorSource;
import dev.tornadonn.layers.sharding.ShardingStrategy;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * The three projections of a gated MLP as read from a checkpoint, of any weight kind:
 * gate and up {@code (F, H)}, down {@code (H, F)}.
 */
public record MlpWeights(String name, LinearWeights gate, LinearWeights up, LinearWeights down) {

    public MlpWeights {
        name = name == null ? "" : name;
        int h = gate.inDim();
        int f = gate.outDim();
        if (up.inDim() != h || up.outDim() != f || down.inDim() != f || down.outDim() != h) {
            throw new WeightLoadException("MLP" + (name.isEmpty() ? "" : " '" + name + "'") + ": projections do not chain: gate "
                    + h + " -> " + f + ", up " + up.inDim() + " -> " + up.outDim() + ", down " + down.inDim() + " -> " + down.outDim());
        }
    }

    /**
     * Reads {@code prefix.gate_proj}, {@code prefix.up_proj} and {@code prefix.down_proj} with
     * {@code reader} (given each projection's prefix), then rejects any other key under
     * {@code prefix}. A checkpoint with Phi-3's fused {@code prefix.gate_up_proj} (one
     * {@code (2F, H)} layer: gate rows first, then up) and no {@code gate_proj} is read as that one
     * layer and split into its two row blocks, bias with them (views of the checkpoint, not copies,
     * for dense and FP8 weights).
     */
    public static MlpWeights read(TensorSource source, String prefix, Function<String, LinearWeights> reader) {
        String gateProj = Keys.join(prefix, "gate_proj");
        String gateUpProj = Keys.join(prefix, "gate_up_proj");
        boolean fused = source.names().stream().noneMatch(n -> Keys.isUnder(n, gateProj))
                && source.names().stream().anyMatch(n -> Keys.isUnder(n, gateUpProj));
        LinearWeights gate;
        LinearWeights up;
        if (fused) {
            LinearWeights gateUp = reader.apply(gateUpProj);
            if (gateUp.outDim() % 2 != 0) {
                throw new WeightLoadException(source.describe() + ": '" + gateUpProj + "' has " + gateUp.outDim()
                        + " output features, expected an even count (gate rows, then as many up rows)");
            }
            int f = gateUp.outDim() / 2;
            try {
                gate = gateUp.rows(0, f);
                up = gateUp.rows(f, 2 * f);
            } catch (IllegalArgumentException e) {
                throw new WeightLoadException(source.describe() + ": '" + gateUpProj + "' cannot be split into gate and up "
                        + "at row " + f + ": " + e.getMessage());
            }
        } else {
            gate = reader.apply(gateProj);
            up = reader.apply(Keys.join(prefix, "up_proj"));
        }
        LinearWeights down = reader.apply(Keys.join(prefix, "down_proj"));
        Set<String> claimed = new HashSet<>();
        for (LinearWeights l : List.of(gate, up, down)) {
            claimed.addAll(l.keys());
        }
        List<String> unexpected = source.names().stream().filter(n -> Keys.isUnder(n, prefix) && !claimed.contains(n)).toList();
        if (!unexpected.isEmpty()) {
            throw new WeightLoadException(source.describe() + ": unexpected key" + (unexpected.size() > 1 ? "s " : " ")
                    + String.join(", ", unexpected.stream().map(n -> "'" + n + "'").toList())
                    + (prefix == null || prefix.isEmpty() ? "" : " under prefix '" + prefix + "'"));
        }
        return new MlpWeights(prefix, gate, up, down);
    }

    public int hiddenDim() {
        return gate.inDim();
    }

    public int feedForwardDim() {
        return gate.outDim();
    }

    /**
     * Tensor-parallel shard {@code i} of {@code n}: gate and up split along the intermediate size
     * (their biases alike), down along its input with its bias on shard 0 only, so the shards'
     * outputs are partial sums whose all-reduce is the whole MLP.
     */
    public MlpWeights shard(int n, int i) {
        ShardingStrategy rows = ShardingStrategy.rowwise(n);
        return new MlpWeights(name, gate.shard(rows, i), up.shard(rows, i), down.shard(ShardingStrategy.columnwise(n), i));
    }

    public MlpWeights withoutDownBias() {
        return new MlpWeights(name, gate, up, down.withoutBias());
    }
}

package dev.tornadonn.layers;

import dev.tornadonn.core.ConfigException;
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

    /** Hugging Face's projection names. */
    public static final List<String> HF_NAMES = List.of("gate_proj", "up_proj", "down_proj");
    /** llama.cpp's (GGUF's) names, siblings of the attention's tensors under {@code blk.N}. */
    public static final List<String> LLAMA_CPP_NAMES = List.of("ffn_gate", "ffn_up", "ffn_down");

    /**
     * The projection names the MLP under {@code prefix} uses: llama.cpp's when the source has a
     * key under {@code prefix.ffn_gate} and none under {@code prefix.gate_proj}, else Hugging Face's.
     */
    public static List<String> projectionNames(TensorSource source, String prefix) {
        boolean hf = source.names().stream().anyMatch(n -> Keys.isUnder(n, Keys.join(prefix, "gate_proj")));
        boolean llama = source.names().stream().anyMatch(n -> Keys.isUnder(n, Keys.join(prefix, "ffn_gate")));
        return llama && !hf ? LLAMA_CPP_NAMES : HF_NAMES;
    }

    /**
     * Reads {@code prefix.gate_proj}, {@code prefix.up_proj} and {@code prefix.down_proj} (or
     * llama.cpp's {@code prefix.ffn_gate}, {@code ffn_up}, {@code ffn_down}: see
     * {@link #projectionNames}) with {@code reader} (given each projection's prefix), then rejects
     * any other key under {@code prefix} (with llama.cpp's names, under the projections' prefixes:
     * {@code blk.N} holds the attention and norms too). A checkpoint with Phi-3's fused
     * {@code prefix.gate_up_proj} (one {@code (2F, H)} layer: gate rows first, then up) and no
     * {@code gate_proj} is read as that one layer and split into its two row blocks, bias with them
     * (views of the checkpoint, not copies, for dense and FP8 weights).
     */
    public static MlpWeights read(TensorSource source, String prefix, Function<String, LinearWeights> reader) {
        List<String> proj = projectionNames(source, prefix);
        String gateProj = Keys.join(prefix, proj.get(0));
        String gateUpProj = Keys.join(prefix, "gate_up_proj");
        boolean fused = proj == HF_NAMES && source.names().stream().noneMatch(n -> Keys.isUnder(n, gateProj))
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
            } catch (ConfigException | IllegalArgumentException e) {
                throw new WeightLoadException(source.describe() + ": '" + gateUpProj + "' cannot be split into gate and up "
                        + "at row " + f + ": " + e.getMessage());
            }
        } else {
            gate = reader.apply(gateProj);
            up = reader.apply(Keys.join(prefix, proj.get(1)));
        }
        LinearWeights down = reader.apply(Keys.join(prefix, proj.get(2)));
        Set<String> claimed = new HashSet<>();
        for (LinearWeights l : List.of(gate, up, down)) {
            claimed.addAll(l.keys());
        }
        java.util.function.Predicate<String> mine = proj == HF_NAMES ? n -> Keys.isUnder(n, prefix)
                : n -> proj.stream().anyMatch(p -> Keys.isUnder(n, Keys.join(prefix, p)));
        List<String> unexpected = source.names().stream().filter(n -> mine.test(n) && !claimed.contains(n)).toList();
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

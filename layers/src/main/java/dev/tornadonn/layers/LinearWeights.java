package dev.tornadonn.layers;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.weights.DenseMatrix;
import dev.tornadonn.core.weights.WeightMatrix;
import dev.tornadonn.layers.sharding.ShardingStrategy;
import java.util.Objects;
import java.util.Set;

/**
 * A linear layer's tensors as read from a checkpoint, not yet on any device: the weight of any
 * kind, the bias, and the checkpoint keys they came from. Views of a mapped file stay valid only
 * while it is open; {@link Linear#of} copies what it keeps.
 *
 * @param name the layer's key prefix, for messages
 * @param bias null or a float {@code (out,)} tensor
 * @param keys the checkpoint keys read, so that a module can reject the keys no layer claimed
 */
public record LinearWeights(String name, WeightMatrix weight, Tensor bias, Set<String> keys) {

    public LinearWeights {
        name = name == null ? "" : name;
        Objects.requireNonNull(weight, "weight");
        keys = Set.copyOf(keys);
        if (bias != null && (bias.shape().rank() != 1 || bias.shape().dim(0) != weight.rows() || !bias.dtype().isFloatingPoint())) {
            throw new ConfigException("bias must be a float (" + weight.rows() + ",) tensor, got " + bias);
        }
    }

    /** A dense layer from tensors in hand. */
    public static LinearWeights dense(String name, Tensor weight, Tensor bias) {
        return new LinearWeights(name, DenseMatrix.of(weight), bias, Set.of());
    }

    public int inDim() {
        return weight.cols();
    }

    public int outDim() {
        return weight.rows();
    }

    /** Shard {@code i}: the weight cut by the strategy, the bias with it (see {@link ShardingStrategy#shardBias}). */
    public LinearWeights shard(ShardingStrategy s, int i) {
        return new LinearWeights(name, s.shard(weight, i), bias == null ? null : s.shardBias(bias, i), keys);
    }

    /**
     * Output features {@code [from, to)} with their bias: a view of the checkpoint for dense and
     * FP8 weights (GPTQ packs output features innermost, so its codes are copied).
     */
    public LinearWeights rows(int from, int to) {
        if (from < 0 || to > outDim() || from >= to) {
            throw new ConfigException("rows [" + from + ", " + to + ") outside [0, " + outDim() + ")");
        }
        int[] sel = new int[to - from];
        for (int i = 0; i < sel.length; i++) {
            sel[i] = from + i;
        }
        return new LinearWeights(name, weight.selectRows(sel), bias == null ? null : bias.slice(0, from, to), keys);
    }

    public LinearWeights withoutBias() {
        return new LinearWeights(name, weight, null, keys);
    }
}

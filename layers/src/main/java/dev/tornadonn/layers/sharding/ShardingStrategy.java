package dev.tornadonn.layers.sharding;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.weights.WeightMatrix;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;

/**
 * How a weight is cut over devices, MAX's {@code ShardingStrategy} as a closed set of values.
 * Names follow MAX and the weight's axes: {@link RowWise} splits axis 0 (the output features,
 * Megatron's column-parallel), {@link ColumnWise} axis 1 (the input features, row-parallel).
 * Uneven sizes follow {@link Split}: the first {@code size mod n} devices take one more.
 */
public sealed interface ShardingStrategy {

    int numDevices();

    /** Shard {@code i} of a host weight {@code (out, in)}, a copy or view that the shard's layer may keep. */
    Tensor shard(Tensor weight, int i);

    /**
     * Shard {@code i} of the matching bias {@code (out,)}, or null where that shard adds none: a
     * strategy that splits the input features yields partial sums, and the bias belongs once, to
     * the sum (device 0's shard carries it, added after the reduction).
     */
    Tensor shardBias(Tensor bias, int i);

    /** Whether shards hold slices of the input features, so their outputs are partial sums to reduce. */
    default boolean splitsInput() {
        return false;
    }

    /**
     * Shard {@code i} of a weight of any kind, scales and zero points included. The strategy is
     * applied to a tensor of row (or column) indices, so every strategy's selection is followed
     * exactly by every format; where a format's scales cannot follow it, the weight refuses the
     * cut with the reason, never silently misaligning.
     */
    default WeightMatrix shard(WeightMatrix weight, int i) {
        boolean byColumn = splitsInput();
        int size = byColumn ? weight.cols() : weight.rows();
        int[] index = new int[size];
        for (int j = 0; j < size; j++) {
            index[j] = j;
        }
        int[] picked = shard(Tensor.ofInts(byColumn ? Shape.of(1, size) : Shape.of(size, 1), index), i).toIntArray();
        return byColumn ? weight.selectColumns(picked) : weight.selectRows(picked);
    }

    /** The device list must be as long as the strategy says (MAX does not check) and hold distinct devices. */
    default void checkDevices(List<DeviceRef> devices, String layer) {
        if (devices.size() != numDevices()) {
            throw new ConfigException(layer + ": the sharding strategy is for " + numDevices() + " devices, got "
                    + devices.size() + " " + devices);
        }
        if (new HashSet<>(devices).size() != devices.size()) {
            throw new ConfigException(layer + ": devices must be distinct, got " + devices);
        }
    }

    static RowWise rowwise(int n) {
        return new RowWise(n);
    }

    static ColumnWise columnwise(int n) {
        return new ColumnWise(n);
    }

    static Replicate replicate(int n) {
        return new Replicate(n);
    }

    // ---------------------------------------------------------------- the strategies

    /** Axis 0 (output features) split; the bias split alike. */
    record RowWise(int numDevices) implements ShardingStrategy {
        public RowWise {
            positive(numDevices);
        }

        @Override
        public Tensor shard(Tensor w, int i) {
            return sliceAxis(w, 0, new Split(w.shape().dim(0), numDevices), i);
        }

        @Override
        public Tensor shardBias(Tensor b, int i) {
            return shard(b, i);
        }
    }

    /** Axis 1 (input features) split; outputs are partial sums; the bias lives on shard 0. */
    record ColumnWise(int numDevices) implements ShardingStrategy {
        public ColumnWise {
            positive(numDevices);
        }

        @Override
        public Tensor shard(Tensor w, int i) {
            requireRank2(w, this);
            return sliceAxis(w, 1, new Split(w.shape().dim(1), numDevices), i);
        }

        @Override
        public Tensor shardBias(Tensor b, int i) {
            return i == 0 ? b : null;
        }

        @Override
        public boolean splitsInput() {
            return true;
        }
    }

    /** Any axis split; axis 0 behaves as {@link RowWise}, any other as {@link ColumnWise} for the bias. */
    record AxisWise(int axis, int numDevices) implements ShardingStrategy {
        public AxisWise {
            positive(numDevices);
            if (axis < 0) {
                throw new ConfigException("axis must be >= 0, got " + axis);
            }
        }

        @Override
        public Tensor shard(Tensor w, int i) {
            if (axis >= w.shape().rank()) {
                throw new ConfigException("axis " + axis + " out of range for " + w.shape());
            }
            return sliceAxis(w, axis, new Split(w.shape().dim(axis), numDevices), i);
        }

        @Override
        public Tensor shardBias(Tensor b, int i) {
            return axis == 0 ? shard(b, i) : (i == 0 ? b : null);
        }

        @Override
        public boolean splitsInput() {
            return axis != 0;
        }
    }

    /** Every device gets the whole weight and bias. */
    record Replicate(int numDevices) implements ShardingStrategy {
        public Replicate {
            positive(numDevices);
        }

        @Override
        public Tensor shard(Tensor w, int i) {
            check(i, numDevices);
            return w;
        }

        @Override
        public Tensor shardBias(Tensor b, int i) {
            return shard(b, i);
        }
    }

    /**
     * A fused QKV weight {@code [Q; K; V]} with {@code numHeads} query heads and
     * {@code numKvHeads} key/value heads of {@code headDim} rows each: each device gets its query
     * heads and the key/value heads they attend with, stacked again. Unlike MAX this handles
     * grouped-query attention: KV heads are split when there are at least as many as devices and
     * replicated when devices outnumber them. The bias is sharded the same way (MAX replicates it
     * whole, which breaks).
     */
    record StackedQkv(int numDevices, int numHeads, int numKvHeads, int headDim) implements ShardingStrategy {
        public StackedQkv {
            positive(numDevices);
            if (numHeads <= 0 || numKvHeads <= 0 || headDim <= 0 || numHeads % numKvHeads != 0) {
                throw new ConfigException("stacked QKV needs positive heads, KV heads dividing query heads, "
                        + "and a positive head_dim; got " + numHeads + ", " + numKvHeads + ", " + headDim);
            }
            if (numKvHeads != numHeads) {
                boolean splitKv = numKvHeads >= numDevices;
                if (numHeads % numDevices != 0 || (splitKv ? numKvHeads % numDevices != 0 : numDevices % numKvHeads != 0)) {
                    throw new ConfigException("grouped-query attention over " + numDevices + " devices needs the "
                            + numHeads + " query heads to divide evenly and the " + numKvHeads
                            + " KV heads to divide evenly or to divide the device count");
                }
            }
        }

        /** MAX's shape: one KV head per query head. */
        public static StackedQkv of(int numDevices, int numHeads, int headDim) {
            return new StackedQkv(numDevices, numHeads, numHeads, headDim);
        }

        @Override
        public Tensor shard(Tensor w, int i) {
            check(i, numDevices);
            int q = numHeads * headDim;
            int kv = numKvHeads * headDim;
            if (w.shape().dim(0) != q + 2 * kv) {
                throw new ConfigException("stacked QKV weight must have " + (q + 2 * kv) + " rows (" + numHeads
                        + " query and 2 × " + numKvHeads + " KV heads of " + headDim + "), got " + w.shape());
            }
            Split qHeads = new Split(numHeads, numDevices);
            int kvFirst;
            int kvCount;
            if (numKvHeads == numHeads) {
                kvFirst = qHeads.start(i);
                kvCount = qHeads.length(i);
            } else if (numKvHeads >= numDevices) {
                Split kvHeads = new Split(numKvHeads, numDevices);
                kvFirst = kvHeads.start(i);
                kvCount = kvHeads.length(i);
            } else {
                kvFirst = i / (numDevices / numKvHeads);
                kvCount = 1;
            }
            List<Tensor> parts = new ArrayList<>();
            parts.add(w.slice(0, qHeads.start(i) * headDim, qHeads.end(i) * headDim));
            parts.add(w.slice(0, q + kvFirst * headDim, q + (kvFirst + kvCount) * headDim));
            parts.add(w.slice(0, q + kv + kvFirst * headDim, q + kv + (kvFirst + kvCount) * headDim));
            return Tensor.concat(parts, 0);
        }

        @Override
        public Tensor shardBias(Tensor b, int i) {
            return shard(b, i);
        }
    }

    /** Columns by whole attention heads ({@code o_proj} when heads do not divide evenly); the bias on shard 0. */
    record HeadAwareColumnWise(int numDevices, int numHeads, int headDim) implements ShardingStrategy {
        public HeadAwareColumnWise {
            positive(numDevices);
            if (numHeads <= 0 || headDim <= 0) {
                throw new ConfigException("heads and head_dim must be positive, got " + numHeads + ", " + headDim);
            }
        }

        @Override
        public Tensor shard(Tensor w, int i) {
            requireRank2(w, this);
            if (w.shape().dim(1) != numHeads * headDim) {
                throw new ConfigException("head-aware columnwise needs " + numHeads + " × " + headDim
                        + " input columns, got " + w.shape());
            }
            Split heads = new Split(numHeads, numDevices);
            return w.slice(1, heads.start(i) * headDim, heads.end(i) * headDim);
        }

        @Override
        public Tensor shardBias(Tensor b, int i) {
            return i == 0 ? b : null;
        }

        @Override
        public boolean splitsInput() {
            return true;
        }
    }

    /**
     * A fused {@code [gate; up]} weight along {@code axis}: each device gets the same slice of
     * both halves, stacked again (MAX's default axis 2 is for stacked MoE experts; dense MLPs use 0).
     */
    record GateUp(int numDevices, int axis) implements ShardingStrategy {
        public GateUp {
            positive(numDevices);
        }

        @Override
        public Tensor shard(Tensor w, int i) {
            check(i, numDevices);
            if (axis >= w.shape().rank()) {
                throw new ConfigException("gate/up axis " + axis + " out of range for " + w.shape());
            }
            int size = w.shape().dim(axis);
            if (size % 2 != 0) {
                throw new ConfigException("gate/up axis " + axis + " of " + w.shape() + " must be even");
            }
            Split half = new Split(size / 2, numDevices);
            return Tensor.concat(List.of(w.slice(axis, half.start(i), half.end(i)),
                    w.slice(axis, size / 2 + half.start(i), size / 2 + half.end(i))), axis);
        }

        @Override
        public Tensor shardBias(Tensor b, int i) {
            return axis == 0 ? shard(b, i) : b;
        }
    }

    /** For modules: an MLP splits gate/up rowwise and down columnwise. It does not cut a single tensor. */
    record TensorParallel(int numDevices) implements ShardingStrategy {
        public TensorParallel {
            positive(numDevices);
        }

        @Override
        public Tensor shard(Tensor w, int i) {
            throw new UnsupportedOperationException("tensor_parallel shards modules (MLP), not a single weight");
        }

        @Override
        public Tensor shardBias(Tensor b, int i) {
            throw new UnsupportedOperationException("tensor_parallel shards modules (MLP), not a single bias");
        }
    }

    // ---------------------------------------------------------------- helpers

    private static Tensor sliceAxis(Tensor t, int axis, Split split, int i) {
        return t.slice(axis, split.start(i), split.end(i));
    }

    private static void positive(int n) {
        if (n <= 0) {
            throw new ConfigException("a sharding strategy needs at least one device, got " + n);
        }
    }

    private static void check(int i, int n) {
        if (i < 0 || i >= n) {
            throw new ConfigException("shard " + i + " outside [0, " + n + ")");
        }
    }

    private static void requireRank2(Tensor w, ShardingStrategy s) {
        if (w.shape().rank() < 2) {
            throw new ConfigException(s + " needs a weight of rank >= 2, got " + w.shape());
        }
    }
}

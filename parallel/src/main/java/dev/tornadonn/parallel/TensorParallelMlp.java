package dev.tornadonn.parallel;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.Activation;
import dev.tornadonn.layers.MLP;
import dev.tornadonn.layers.MlpWeights;
import dev.tornadonn.layers.sharding.ShardingStrategy;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * An MLP sharded tensor-parallel over devices: gate and up split along the intermediate size,
 * down along its input, the partial outputs all-reduced. Two ways to get the same result, chosen
 * explicitly rather than by changing what the MLP returns (as MAX does):
 *
 * <ul>
 *   <li>{@link #forward}: each shard runs its whole MLP without the down bias, then one
 *       all-reduce;
 *   <li>{@link #forwardFused}: each shard computes its hidden activations, then the down
 *       projection and the all-reduce run in chunks of rows, the reduction of one chunk
 *       overlapping the products of the next, and the bias is added once after the reduction.
 * </ul>
 */
public final class TensorParallelMlp {
    private final List<MLP> shards;
    private final List<DeviceRef> devices;
    private final Communicator comm;
    private final Tensor downBias;
    private final int hidden;

    private TensorParallelMlp(List<MLP> shards, List<DeviceRef> devices, Communicator comm, Tensor downBias, int hidden) {
        this.shards = shards;
        this.devices = devices;
        this.comm = comm;
        this.downBias = downBias;
        this.hidden = hidden;
    }

    /**
     * Cuts the MLP's weights (of any kind) tensor-parallel over {@code devices} and prepares each
     * shard on its own device only. Shards carry no down bias: it is added once, after the reduction.
     */
    public static TensorParallelMlp of(MlpWeights full, Activation activation, List<DeviceRef> devices, Communicator comm) {
        if (devices.isEmpty()) {
            throw new ConfigException("TensorParallelMlp requires a non-empty devices argument");
        }
        new ShardingStrategy.TensorParallel(devices.size()).checkDevices(devices, "TensorParallelMlp");
        MlpWeights noBias = full.withoutDownBias();
        List<MlpWeights> cut = java.util.stream.IntStream.range(0, devices.size())
                .mapToObj(i -> noBias.shard(devices.size(), i)).toList();
        List<MLP> shards = java.util.stream.IntStream.range(0, devices.size())
                .mapToObj(i -> MLP.of(cut.get(i), activation, devices.get(i))).toList();
        Tensor bias = full.down().bias() == null ? null : full.down().bias().toDType(DType.F32);
        return new TensorParallelMlp(shards, List.copyOf(devices), comm, bias, full.hiddenDim());
    }

    public List<MLP> shards() {
        return shards;
    }

    /** {@code xs.get(i)}: the whole input on device i. Every device gets the whole output. */
    public List<Tensor> forward(List<Tensor> xs) {
        checkInputs(xs);
        List<Tensor> sums = comm.allReduceSum(DeviceThreads.run(shards.size(), i -> shards.get(i).forward(xs.get(i))));
        return downBias == null ? sums : sums.stream().map(y -> RowParallelLinear.addBias(y, downBias)).toList();
    }

    /** {@link #forward} or {@link #forwardFused}, as {@code config} says. */
    public List<Tensor> forward(List<Tensor> xs, DistributedGemmConfig config) {
        return config.enableMatmulAllreduce() ? forwardFused(xs, 0) : forward(xs);
    }

    /**
     * The fused matmul + all-reduce: rows in chunks of {@code chunkRows} (0 picks about four
     * chunks); chunk c's reduction runs while chunk c+1's down projections compute.
     */
    public List<Tensor> forwardFused(List<Tensor> xs, int chunkRows) {
        checkInputs(xs);
        int n = shards.size();
        List<Tensor> h = DeviceThreads.run(n, i -> {
            Tensor hi = shards.get(i).hiddenActivations(xs.get(i));
            return hi.reshape(Math.toIntExact(hi.shape().leadingNumel()), hi.shape().dim(-1));
        });
        int m = h.get(0).shape().dim(0);
        int chunk = chunkRows > 0 ? chunkRows : Math.max(1, (m + 3) / 4);
        List<Tensor> out = new ArrayList<>();
        for (DeviceRef d : devices) {
            out.add(Tensor.allocate(DType.F32, Shape.of(m, hidden), d));
        }
        CompletableFuture<Void> reducing = CompletableFuture.completedFuture(null);
        for (int r0 = 0; r0 < m; r0 += chunk) {
            int from = r0;
            int to = Math.min(m, r0 + chunk);
            List<Tensor> partials = DeviceThreads.run(n, i -> {
                Tensor y = Tensor.allocate(DType.F32, Shape.of(to - from, hidden), devices.get(i));
                shards.get(i).downProjection(h.get(i).slice(0, from, to), y);
                return y;
            });
            reducing = reducing.thenRunAsync(() -> {
                List<Tensor> sums = comm.allReduceSum(partials);
                for (int i = 0; i < n; i++) {
                    Tensor sum = downBias == null ? sums.get(i) : RowParallelLinear.addBias(sums.get(i), downBias);
                    out.get(i).slice(0, from, to).data().copyFrom(sum.data());
                }
            });
        }
        reducing.join();
        Shape shape = xs.get(0).shape();
        return out.stream().map(t -> t.reshape(shape)).toList();
    }

    /** The input copied to every device; returns device 0's output. */
    public Tensor forward(Tensor x) {
        return forward(devices.stream().map(x::to).toList()).get(0);
    }

    private void checkInputs(List<Tensor> xs) {
        if (xs.size() != shards.size()) {
            throw new ConfigException("one input per device: " + shards.size() + " expected, got " + xs.size());
        }
    }
}

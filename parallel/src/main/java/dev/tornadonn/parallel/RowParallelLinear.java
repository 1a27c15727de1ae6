package dev.tornadonn.parallel;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.layers.sharding.Split;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.layers.Linear;
import dev.tornadonn.layers.LinearWeights;
import dev.tornadonn.layers.sharding.ShardingStrategy;
import java.util.ArrayList;
import java.util.List;

/**
 * Megatron's row-parallel linear (absent from MAX): the input features split over the devices
 * (the weight columnwise), each device producing a partial sum. With {@code reduceResults} the
 * partials are all-reduced and the bias is added once, after the reduction, on every device;
 * without, the partial sums are returned and a bias is refused (it would have no sum to join).
 * With {@code inputIsParallel} the inputs already are the slices; otherwise the whole input is
 * scattered by MAX's split rule.
 */
public final class RowParallelLinear {
    private final List<Linear> shards;
    private final List<DeviceRef> devices;
    private final Communicator comm;
    private final Tensor bias;
    private final Split inSplit;
    private final boolean inputIsParallel;
    private final boolean reduceResults;

    private RowParallelLinear(List<Linear> shards, List<DeviceRef> devices, Communicator comm, Tensor bias, Split inSplit,
                              boolean inputIsParallel, boolean reduceResults) {
        this.shards = shards;
        this.devices = devices;
        this.comm = comm;
        this.bias = bias;
        this.inSplit = inSplit;
        this.inputIsParallel = inputIsParallel;
        this.reduceResults = reduceResults;
    }

    /**
     * Cuts a layer's weights (of any kind) along the input features over {@code devices} and
     * prepares each shard on its own device only; the bias is kept aside, to be added once after
     * the reduction.
     */
    public static RowParallelLinear of(LinearWeights full, List<DeviceRef> devices, Communicator comm,
                                       boolean inputIsParallel, boolean reduceResults) {
        if (devices.isEmpty()) {
            throw new ConfigException("RowParallelLinear requires a non-empty devices argument");
        }
        if (full.bias() != null && !reduceResults) {
            throw new ConfigException("RowParallelLinear with a bias needs reduceResults: the bias belongs to the "
                    + "reduced sum, which this layer would not form");
        }
        ShardingStrategy s = ShardingStrategy.columnwise(devices.size());
        s.checkDevices(devices, "RowParallelLinear");
        LinearWeights noBias = full.withoutBias();
        List<LinearWeights> cut = java.util.stream.IntStream.range(0, devices.size()).mapToObj(i -> noBias.shard(s, i)).toList();
        List<Linear> shards = java.util.stream.IntStream.range(0, devices.size())
                .mapToObj(i -> Linear.of(cut.get(i), devices.get(i))).toList();
        Tensor bias = full.bias() == null ? null : full.bias().toDType(dev.tornadonn.core.DType.F32);
        return new RowParallelLinear(shards, List.copyOf(devices), comm, bias, new Split(full.inDim(), devices.size()),
                inputIsParallel, reduceResults);
    }

    public List<Linear> shards() {
        return shards;
    }

    /**
     * {@code xs.get(i)}: device i's slice of the input (inputIsParallel), or the whole input on
     * device i. Returns the reduced output on every device, or the partial sums.
     */
    public List<Tensor> forward(List<Tensor> xs) {
        if (xs.size() != shards.size()) {
            throw new ConfigException("one input per device: " + shards.size() + " expected, got " + xs.size());
        }
        List<Tensor> partials = DeviceThreads.run(shards.size(), i -> {
            Tensor x = xs.get(i);
            if (!inputIsParallel) {
                int last = x.shape().rank() - 1;
                x = x.slice(last, inSplit.start(i), inSplit.end(i));
            }
            return shards.get(i).forward(x);
        });
        if (!reduceResults) {
            return partials;
        }
        List<Tensor> sums = comm.allReduceSum(partials);
        if (bias == null) {
            return sums;
        }
        List<Tensor> out = new ArrayList<>();
        for (Tensor s : sums) {
            out.add(addBias(s, bias));
        }
        return out;
    }

    /** The whole input on every device; returns device 0's reduced output. */
    public Tensor forward(Tensor x) {
        return forward(devices.stream().map(x::to).toList()).get(0);
    }

    static Tensor addBias(Tensor y, Tensor bias) {
        int n = bias.shape().dim(0);
        long rows = y.numel() / n;
        for (long r = 0; r < rows; r++) {
            for (int j = 0; j < n; j++) {
                long at = r * n + j;
                y.setFloat(at, y.getFloat(at) + bias.getFloat(j));
            }
        }
        return y;
    }
}

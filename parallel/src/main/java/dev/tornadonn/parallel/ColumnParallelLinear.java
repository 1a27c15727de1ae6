package dev.tornadonn.parallel;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.layers.Linear;
import dev.tornadonn.layers.LinearWeights;
import dev.tornadonn.layers.sharding.ShardingStrategy;
import java.util.List;

/**
 * MAX's {@code ColumnParallelLinear}: the output features split over the devices (the weight
 * rowwise, the bias with it), every device given the whole input. With {@code gatherOutput}
 * (MAX's only behaviour, the default) every device gets the full output in device order;
 * without, device i keeps its slice (for a following row-parallel layer).
 */
public final class ColumnParallelLinear {
    private final List<Linear> shards;
    private final List<DeviceRef> devices;
    private final Communicator comm;
    private final boolean gatherOutput;

    private ColumnParallelLinear(List<Linear> shards, List<DeviceRef> devices, Communicator comm, boolean gatherOutput) {
        this.shards = shards;
        this.devices = devices;
        this.comm = comm;
        this.gatherOutput = gatherOutput;
    }

    /**
     * Cuts a layer's weights (of any kind) over {@code devices}, uneven splits following MAX's rule,
     * and prepares each shard on its own device only.
     */
    public static ColumnParallelLinear of(LinearWeights full, List<DeviceRef> devices, Communicator comm, boolean gatherOutput) {
        if (devices.isEmpty()) {
            throw new ConfigException("ColumnParallelLinear requires a non-empty devices argument");
        }
        ShardingStrategy s = ShardingStrategy.rowwise(devices.size());
        s.checkDevices(devices, "ColumnParallelLinear");
        List<LinearWeights> cut = java.util.stream.IntStream.range(0, devices.size()).mapToObj(i -> full.shard(s, i)).toList();
        List<Linear> shards = java.util.stream.IntStream.range(0, devices.size())
                .mapToObj(i -> Linear.of(cut.get(i), devices.get(i))).toList();
        return new ColumnParallelLinear(shards, List.copyOf(devices), comm, gatherOutput);
    }

    public static ColumnParallelLinear of(LinearWeights full, List<DeviceRef> devices, Communicator comm) {
        return of(full, devices, comm, true);
    }

    public List<Linear> shards() {
        return shards;
    }

    /** {@code xs.get(i)} is the whole input on device i; the shards run concurrently. */
    public List<Tensor> forward(List<Tensor> xs) {
        if (xs.size() != shards.size()) {
            throw new ConfigException("one input per device: " + shards.size() + " expected, got " + xs.size());
        }
        List<Tensor> ys = DeviceThreads.run(shards.size(), i -> shards.get(i).forward(xs.get(i)));
        return gatherOutput ? comm.allGather(ys, -1) : ys;
    }

    /** The input copied to every device; returns device 0's output (the full one when gathering). */
    public Tensor forward(Tensor x) {
        return forward(devices.stream().map(x::to).toList()).get(0);
    }
}

package dev.tornadonn.parallel;

import dev.tornadonn.layers.sharding.Split;
import dev.tornadonn.core.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Collectives over tensors that live on different devices, one tensor per device, in list order
 * (MAX's {@code allgather} and {@code allreduce.sum}, plus reduce-scatter and broadcast). Every
 * call checks that the devices are distinct and that shapes and dtypes agree where they must.
 */
public interface Communicator extends AutoCloseable {

    /** A short name for logs: {@code host}, {@code nccl}. */
    String name();

    /**
     * Every device receives the concatenation of all inputs, in list order, along {@code axis}
     * (negative counts from the end). Sizes along {@code axis} may differ; every other dimension,
     * the rank and the dtype must agree. Fewer than two inputs are returned unchanged.
     */
    List<Tensor> allGather(List<Tensor> inputs, int axis);

    /**
     * The element-wise sum of all inputs, accumulated in f32 and stored in the inputs' dtype;
     * result {@code i} lives on input {@code i}'s device. Shapes and dtypes must agree.
     */
    List<Tensor> allReduceSum(List<Tensor> inputs);

    /**
     * The element-wise sum, split along {@code axis} by {@link Split}: device {@code i} receives
     * part {@code i} (the first {@code size mod n} parts one longer). By default an all-reduce
     * whose parts each device keeps: uneven parts are beyond NCCL's own reduce-scatter.
     */
    default List<Tensor> reduceScatter(List<Tensor> inputs, int axis) {
        List<Tensor> sums = allReduceSum(inputs);
        if (sums.isEmpty()) {
            return sums;
        }
        int ax = CollectiveChecks.axis(axis, sums.get(0).shape().rank(), "reduceScatter");
        Split split = new Split(sums.get(0).shape().dim(ax), sums.size());
        List<Tensor> out = new ArrayList<>();
        for (int i = 0; i < sums.size(); i++) {
            out.add(sums.get(i).slice(ax, split.start(i), split.end(i)).copy());
        }
        return List.copyOf(out);
    }

    /** {@code inputs.get(root)} copied to every device of {@code inputs}; the others only name devices. */
    List<Tensor> broadcast(List<Tensor> inputs, int root);

    @Override
    default void close() {}
}

package dev.tornadonn.parallel;

import dev.tornadonn.core.Tensor;
import java.util.List;

/**
 * Collectives over tensors that live on different devices, one tensor per device, in list order
 * (MAX's {@code allgather} and {@code allreduce.sum}).
 */
public interface Communicator {

    /**
     * Every device receives the concatenation of all inputs, in list order, along {@code axis}
     * (negative counts from the end). Sizes along {@code axis} may differ; every other dimension,
     * the rank and the dtype must agree, and the devices must be distinct. Fewer than two inputs
     * are returned unchanged.
     */
    List<Tensor> allGather(List<Tensor> inputs, int axis);

    /**
     * The element-wise sum of all inputs, accumulated in f32 and stored in the inputs' dtype;
     * result {@code i} lives on input {@code i}'s device. Shapes and dtypes must agree and the
     * devices must be distinct.
     */
    List<Tensor> allReduceSum(List<Tensor> inputs);
}

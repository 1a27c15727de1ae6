package dev.tornadonn.parallel;

import dev.tornadonn.core.Tensor;
import java.util.ArrayList;
import java.util.List;

/** Collectives in host memory: for {@code cpu:i} devices, and as the fallback for host-staged accelerators. */
public final class HostCommunicator implements Communicator {

    @Override
    public String name() {
        return "host";
    }

    @Override
    public List<Tensor> allGather(List<Tensor> inputs, int axis) {
        requireDistinctDevices(inputs);
        if (inputs.size() < 2) {
            return List.copyOf(inputs);
        }
        int ax = CollectiveChecks.gatherAxis(inputs, axis);
        Tensor gathered = Tensor.concat(inputs, ax);
        List<Tensor> out = new ArrayList<>();
        for (Tensor t : inputs) {
            Tensor mine = Tensor.allocate(gathered.dtype(), gathered.shape(), t.device());
            mine.data().copyFrom(gathered.data());
            out.add(mine);
        }
        return List.copyOf(out);
    }

    @Override
    public List<Tensor> allReduceSum(List<Tensor> inputs) {
        requireDistinctDevices(inputs);
        if (inputs.isEmpty()) {
            return List.of();
        }
        CollectiveChecks.sameShapeFloat(inputs);
        Tensor first = inputs.get(0);
        long n = first.numel();
        float[] sum = new float[Math.toIntExact(n)];
        for (Tensor t : inputs) {
            for (int e = 0; e < sum.length; e++) {
                sum[e] += t.getFloat(e);
            }
        }
        List<Tensor> out = new ArrayList<>();
        for (Tensor t : inputs) {
            Tensor r = Tensor.allocate(first.dtype(), first.shape(), t.device());
            for (int e = 0; e < sum.length; e++) {
                r.setFloat(e, sum[e]);
            }
            out.add(r);
        }
        return List.copyOf(out);
    }

    @Override
    public List<Tensor> broadcast(List<Tensor> inputs, int root) {
        requireDistinctDevices(inputs);
        CollectiveChecks.root(inputs, root);
        Tensor source = inputs.get(root);
        List<Tensor> out = new ArrayList<>();
        for (Tensor t : inputs) {
            Tensor mine = Tensor.allocate(source.dtype(), source.shape(), t.device());
            mine.data().copyFrom(source.data());
            out.add(mine);
        }
        return List.copyOf(out);
    }

    /** Host memory serves any device whose tensors live there: cpu ones, and host-staged accelerators. */
    private static void requireDistinctDevices(List<Tensor> inputs) {
        CollectiveChecks.distinctDevices(inputs);
    }
}

package dev.tornadonn.parallel;

import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Split;
import dev.tornadonn.core.Tensor;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Collectives for host-memory devices ({@code cpu:i}): the data meets in host memory. */
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
        Tensor first = inputs.get(0);
        int rank = first.shape().rank();
        if (axis < -rank || axis >= rank) {
            throw new IllegalArgumentException("allGather axis " + axis + " out of range for rank " + rank);
        }
        int ax = axis < 0 ? axis + rank : axis;
        for (int i = 0; i < inputs.size(); i++) {
            Tensor t = inputs.get(i);
            if (t.shape().rank() != rank || t.dtype() != first.dtype()) {
                throw new IllegalArgumentException("allGather input " + i + " is " + t.dtype() + " " + t.shape()
                        + ", but input 0 is " + first.dtype() + " " + first.shape() + " (rank and dtype must agree)");
            }
            for (int d = 0; d < rank; d++) {
                if (d != ax && t.shape().dim(d) != first.shape().dim(d)) {
                    throw new IllegalArgumentException("allGather input " + i + " has shape " + t.shape()
                            + ", input 0 " + first.shape() + ": only axis " + ax + " may differ");
                }
            }
        }
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
        Tensor first = inputs.get(0);
        for (int i = 1; i < inputs.size(); i++) {
            Tensor t = inputs.get(i);
            if (!t.shape().equals(first.shape()) || t.dtype() != first.dtype()) {
                throw new IllegalArgumentException("allReduceSum input " + i + " is " + t.dtype() + " " + t.shape()
                        + ", but input 0 is " + first.dtype() + " " + first.shape() + " (shapes and dtypes must agree)");
            }
        }
        if (!first.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException("allReduceSum takes floating-point tensors, not " + first.dtype());
        }
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
    public List<Tensor> reduceScatter(List<Tensor> inputs, int axis) {
        List<Tensor> sums = allReduceSum(inputs);
        if (sums.isEmpty()) {
            return sums;
        }
        int rank = sums.get(0).shape().rank();
        if (axis < -rank || axis >= rank) {
            throw new IllegalArgumentException("reduceScatter axis " + axis + " out of range for rank " + rank);
        }
        int ax = axis < 0 ? axis + rank : axis;
        Split split = new Split(sums.get(0).shape().dim(ax), sums.size());
        List<Tensor> out = new ArrayList<>();
        for (int i = 0; i < sums.size(); i++) {
            out.add(sums.get(i).slice(ax, split.start(i), split.end(i)).copy());
        }
        return List.copyOf(out);
    }

    @Override
    public List<Tensor> broadcast(List<Tensor> inputs, int root) {
        requireDistinctDevices(inputs);
        if (root < 0 || root >= inputs.size()) {
            throw new IllegalArgumentException("broadcast root " + root + " outside the " + inputs.size() + " devices");
        }
        Tensor source = inputs.get(root);
        List<Tensor> out = new ArrayList<>();
        for (Tensor t : inputs) {
            Tensor mine = Tensor.allocate(source.dtype(), source.shape(), t.device());
            mine.data().copyFrom(source.data());
            out.add(mine);
        }
        return List.copyOf(out);
    }

    private static void requireDistinctDevices(List<Tensor> inputs) {
        Set<DeviceRef> seen = new HashSet<>();
        for (Tensor t : inputs) {
            if (!t.device().isCpu()) {
                throw new IllegalArgumentException("HostCommunicator handles cpu devices only, got " + t.device());
            }
            if (!seen.add(t.device())) {
                throw new IllegalArgumentException("device " + t.device() + " appears twice; each input needs its own device");
            }
        }
    }
}

package dev.tornadonn.parallel;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Tensor;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** The argument rules every {@link Communicator} applies (MAX §2.6). */
public final class CollectiveChecks {
    private CollectiveChecks() {}

    /** Each input on a device of its own. */
    public static void distinctDevices(List<Tensor> inputs) {
        Set<DeviceRef> seen = new HashSet<>();
        for (Tensor t : inputs) {
            if (!seen.add(t.device())) {
                throw new ConfigException("device " + t.device() + " appears twice; each input needs its own device");
            }
        }
    }

    /** A broadcast root names one of the inputs. */
    public static void root(List<Tensor> inputs, int root) {
        if (root < 0 || root >= inputs.size()) {
            throw new ConfigException("broadcast root " + root + " outside the " + inputs.size() + " devices");
        }
    }

    public static int axis(int axis, int rank, String op) {
        if (axis < -rank || axis >= rank) {
            throw new ConfigException(op + " axis " + axis + " out of range for rank " + rank);
        }
        return axis < 0 ? axis + rank : axis;
    }

    /** Same rank and dtype, equal dims except {@code axis}; returns the axis made non-negative. */
    public static int gatherAxis(List<Tensor> inputs, int axis) {
        Tensor first = inputs.get(0);
        int rank = first.shape().rank();
        int ax = axis(axis, rank, "allGather");
        for (int i = 0; i < inputs.size(); i++) {
            Tensor t = inputs.get(i);
            if (t.shape().rank() != rank || t.dtype() != first.dtype()) {
                throw new ConfigException("allGather input " + i + " is " + t.dtype() + " " + t.shape()
                        + ", but input 0 is " + first.dtype() + " " + first.shape() + " (rank and dtype must agree)");
            }
            for (int d = 0; d < rank; d++) {
                if (d != ax && t.shape().dim(d) != first.shape().dim(d)) {
                    throw new ConfigException("allGather input " + i + " has shape " + t.shape()
                            + ", input 0 " + first.shape() + ": only axis " + ax + " may differ");
                }
            }
        }
        return ax;
    }

    public static void sameShapeFloat(List<Tensor> inputs) {
        Tensor first = inputs.get(0);
        for (int i = 1; i < inputs.size(); i++) {
            Tensor t = inputs.get(i);
            if (!t.shape().equals(first.shape()) || t.dtype() != first.dtype()) {
                throw new ConfigException("allReduceSum input " + i + " is " + t.dtype() + " " + t.shape()
                        + ", but input 0 is " + first.dtype() + " " + first.shape() + " (shapes and dtypes must agree)");
            }
        }
        if (!first.dtype().isFloatingPoint()) {
            throw new ConfigException("allReduceSum takes floating-point tensors, not " + first.dtype());
        }
    }
}

package dev.tornadonn.layers;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.backend.Backend;

/** A weight (and bias) already on a device, applied to rank-2 F32 inputs. Shared by Linear and MLP. */
record LinearOp(Backend backend, DeviceRef device, Tensor weight, Tensor bias) {

    static LinearOp prepare(Backend backend, DeviceRef device, Tensor weight, Tensor bias) {
        return new LinearOp(backend, device, backend.prepareWeight(weight, device),
                bias == null ? null : backend.prepareWeight(bias, device));
    }

    /** The weight in host memory, for sharding: the JVM backend's prepared weight is one. */
    Tensor hostWeight() {
        return host(weight);
    }

    Tensor hostBias() {
        return bias == null ? null : host(bias);
    }

    private static Tensor host(Tensor t) {
        if (!t.device().isCpu()) {
            throw new UnsupportedOperationException("sharding needs the weights in host memory; " + t + " is not");
        }
        return t;
    }

    int inDim() {
        return weight.shape().dim(1);
    }

    int outDim() {
        return weight.shape().dim(0);
    }

    /** {@code x2d} is F32 {@code (M, in)}; {@code y2d} F32 {@code (M, out)}. */
    void apply(Tensor x2d, Tensor y2d) {
        backend.linear(x2d, weight, bias, y2d);
    }

    Tensor apply(Tensor x2d) {
        Tensor y = Tensor.allocate(DType.F32, Shape.of(x2d.shape().dim(0), outDim()), device);
        apply(x2d, y);
        return y;
    }
}

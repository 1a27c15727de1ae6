package dev.tornadonn.layers;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;

/** Checks a layer's input and views it as the F32 {@code (M, in)} matrix the kernels take. */
public final class Inputs {
    private Inputs() {}

    public static Tensor asMatrix(Tensor x, int inDim, DeviceRef device, String layer) {
        Shape s = x.shape();
        if (s.rank() < 1) {
            throw new ConfigException(layer + ": input must have rank >= 1, got a scalar");
        }
        if (s.dim(-1) != inDim) {
            throw new ConfigException(layer + ": input has last dimension " + s.dim(-1)
                    + " (shape " + s + "), but in_dim is " + inDim);
        }
        if (!x.device().equals(device)) {
            throw new ConfigException(layer + ": input is on " + x.device() + " but the layer is on "
                    + device + "; move it with x.to(" + device + ")");
        }
        if (x.dtype() != DType.F32 && x.dtype() != DType.BF16 && x.dtype() != DType.F16) {
            throw new ConfigException(layer + ": input must be F32, BF16 or F16, got " + x.dtype());
        }
        Tensor f32 = x.dtype() == DType.F32 ? x : x.toDType(DType.F32);
        return f32.reshape(Shape.of(Math.toIntExact(s.leadingNumel()), inDim));
    }

    public static void checkOutput(Tensor x, Tensor out, int outDim, String layer) {
        Shape expected = x.shape().withLast(outDim);
        if (out.dtype() != DType.F32 || !out.shape().equals(expected)) {
            throw new ConfigException(layer + ": output must be F32 " + expected + ", got " + out);
        }
    }
}

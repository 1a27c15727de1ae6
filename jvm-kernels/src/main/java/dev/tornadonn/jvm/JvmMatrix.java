package dev.tornadonn.jvm;

import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.backend.PreparedMatrix;
import dev.tornadonn.core.weights.WeightKind;

/** A weight prepared by {@link JvmBackend}: its kernel layout and its bias, decoded to f32, in host memory. */
record JvmMatrix(DeviceRef device, WeightKind kind, KernelLayout layout, float[] bias) implements PreparedMatrix {

    @Override
    public int rows() {
        return layout.rows();
    }

    @Override
    public int cols() {
        return layout.cols();
    }

    @Override
    public boolean hasBias() {
        return bias != null;
    }

    @Override
    public long bytes() {
        return layout.bytes() + (bias == null ? 0 : 4L * bias.length);
    }
}

package dev.tornadonn.tornado;

import dev.tornadonn.core.weights.WeightKind;
import dev.tornadonn.twins.WeightFormat;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.ShortArray;

/**
 * A dense weight matrix in the arrays the kernels read: f32 values, or bf16/fp16 bits (the other array
 * is a one-element placeholder, since a kernel's parameters are fixed). TornadoVM copies them to
 * the device on a plan's first execution and keeps them there.
 */
record ResidentWeight(int format, int rows, int cols, FloatArray f32, ShortArray half) implements DeviceWeight {

    static ResidentWeight ofF32(FloatArray values, int rows, int cols) {
        return new ResidentWeight(WeightFormat.F32, rows, cols, values, new ShortArray(1));
    }

    static ResidentWeight ofHalf(int format, ShortArray bits, int rows, int cols) {
        return new ResidentWeight(format, rows, cols, new FloatArray(1), bits);
    }

    @Override
    public long bytes() {
        return format == WeightFormat.F32 ? 4L * f32.getSize() : 2L * half.getSize();
    }

    @Override
    public WeightKind kind() {
        return WeightKind.DENSE;
    }
}

package dev.tornadonn.layers;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.DType;
import dev.tornadonn.core.numeric.BFloat16;
import dev.tornadonn.core.numeric.Float16;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.NativeMemory;
import dev.tornadonn.core.UnsupportedOnDeviceException;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.backend.Backend;
import dev.tornadonn.core.backend.PreparedMatrix;
import dev.tornadonn.core.weights.WeightKind;
import dev.tornadonn.core.weights.WeightMatrix;
import java.util.List;
import java.util.Set;

/** The one way layers put weights on a device: the backend's check of the kind, then its prepare. */
final class Prepared {
    private static final System.Logger LOG = System.getLogger(Prepared.class.getName());
    private static final long LARGE = 256L << 20;

    private Prepared() {}

    static PreparedMatrix on(Backend backend, DeviceRef device, List<? extends WeightMatrix> blocks, Tensor bias, String layer) {
        Set<WeightKind> kinds = backend.weightKinds(device);
        for (WeightMatrix w : blocks) {
            if (!kinds.contains(w.kind())) {
                throw new UnsupportedOnDeviceException(layer + ": " + w.kind() + " weights are not supported on " + device
                        + " by the " + backend.name() + " backend yet (it runs " + kinds + "); load this layer on a cpu device");
            }
        }
        long bytes = blocks.stream().mapToLong(WeightMatrix::packedBytes).sum();
        long start = System.nanoTime();
        PreparedMatrix p;
        try {
            p = backend.prepare(blocks, bias, device);
        } catch (NativeMemory.OutOfMemory e) {
            throw e.namedFor(layer); // the checkpoint key the user can find
        }
        if (bytes >= LARGE) { // progress through a large checkpoint, a weight at a time
            LOG.log(System.Logger.Level.INFO, String.format("tornado-nn: %s: %.2f GiB of %s weights on %s in %.1f s", layer,
                    bytes / (double) (1L << 30), blocks.get(0).kind(), device, (System.nanoTime() - start) / 1e9));
        }
        return p;
    }

    /** Rounds every element to {@code dtype}'s values, in place: the layers' output dtype. */
    static void round(Tensor y, DType dtype) {
        if (dtype == DType.F32) {
            return;
        }
        long n = y.numel();
        if (y.dtype() != DType.F32 || dtype != DType.BF16 && dtype != DType.F16) {
            for (long i = 0; i < n; i++) {
                y.setFloat(i, dtype.round(y.getFloat(i)));
            }
            return;
        }
        // The common case in a loop of its own, the dtype decided once: a per-element dispatch
        // cost more than the rounding (measurable beside a GEMM of M = 512).
        java.lang.foreign.MemorySegment d = y.data();
        if (dtype == DType.BF16) {
            for (long i = 0; i < n; i++) {
                d.setAtIndex(F32, i, BFloat16.toFloat(BFloat16.fromFloat(d.getAtIndex(F32, i))));
            }
        } else {
            for (long i = 0; i < n; i++) {
                d.setAtIndex(F32, i, Float16.toFloat(Float16.fromFloat(d.getAtIndex(F32, i))));
            }
        }
    }

    private static final java.lang.foreign.ValueLayout.OfFloat F32 =
            java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);

    static void checkOutputDType(DType dtype) {
        if (dtype != DType.F32 && dtype != DType.BF16 && dtype != DType.F16) {
            throw new ConfigException("output dtype must be F32, BF16 or F16, got " + dtype);
        }
    }
}

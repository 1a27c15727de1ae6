package dev.tornadonn.reference;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.io.QuantizationConfig;
import dev.tornadonn.core.io.TensorSource;
import dev.tornadonn.layers.Linear;
import dev.tornadonn.layers.checkpoint.CheckpointLayers;
import dev.tornadonn.layers.quant.OnlineFp8;
import java.util.Map;
import java.util.Optional;

/**
 * What the cases of formats told from a checkpoint share: the layer is read as a user's
 * checkpoint is, through {@link CheckpointLayers} with the tool's own {@code quantization_config},
 * and compared with a float64 reference computed from the values the checkpoint was built from.
 */
final class CheckpointCases {
    private CheckpointCases() {}

    /**
     * Runs the layer under {@code prefix} on {@code x} into an output poisoned with NaN first.
     *
     * @param quantConfig the {@code quantization_config} JSON, or null for an unquantised checkpoint
     * @param online      fp8 quantisation at load, or null
     */
    static CaseResult run(ConformanceCase c, DeviceRef device, Map<String, Tensor> checkpoint, String quantConfig,
                          OnlineFp8 online, String prefix, Tensor x, double[] ref, double[] scale, Tolerance tolerance) {
        try {
            CheckpointLayers layers = new CheckpointLayers(TensorSource.of(checkpoint),
                    Optional.ofNullable(quantConfig).map(QuantizationConfig::parse), Optional.empty(), device, 0,
                    Optional.ofNullable(online));
            int outDim = ref.length / Math.toIntExact(x.shape().leadingNumel());
            Tensor y = Tensor.allocate(DType.F32, x.shape().withLast(outDim), device).fill(Float.NaN);
            try (Linear layer = Linear.load(layers.linearSpec(prefix), layers.source())) {
                layer.forward(x.to(device), y);
            }
            return new CaseResult(c, device, Comparison.of(y.toFloatArray(), ref, scale), tolerance, null);
        } catch (RuntimeException e) {
            return new CaseResult(c, device, null, tolerance, e.toString());
        }
    }

    /** Codes drawn so that about one in eight is each end of the range, the rest uniform. */
    static int code(java.util.SplittableRandom rnd, int lo, int hi) {
        return switch (rnd.nextInt(8)) {
            case 0 -> lo;
            case 1 -> hi;
            default -> lo + rnd.nextInt(hi - lo + 1);
        };
    }

    /** F16 scales of a few magnitudes, as the tools write them. */
    static Tensor scales(DType dtype, Shape shape, java.util.SplittableRandom rnd) {
        Tensor t = Tensor.allocate(dtype, shape);
        for (long i = 0; i < t.numel(); i++) {
            t.setFloat(i, (float) Math.scalb(1 + rnd.nextDouble(), -5 - rnd.nextInt(4)));
        }
        return t;
    }
}

package dev.tornadonn.core.backend;

import dev.tornadonn.core.Activation;
import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.quant.QuantizedMatrix;

/**
 * What a device family must provide for the layers to run on it. Implementations are found with
 * {@link java.util.ServiceLoader}; {@link Backends#forDevice} picks the one that supports a device.
 *
 * <p>Shapes use the layers' conventions: {@code x} is {@code (M, K)}, a weight {@code (N, K)}
 * (PyTorch's {@code (out, in)}), {@code y} is {@code (M, N)}. Kernels accumulate in f32.
 */
public interface Backend {

    /** A short name for logs and tables, e.g. {@code jvm-vector}. */
    String name();

    boolean supports(DeviceRef device);

    /** A copy of {@code t}'s elements owned by {@code device}, same dtype and shape. */
    Tensor copyTo(Tensor t, DeviceRef device);

    /**
     * Moves a weight onto {@code device} once, at load, in whatever form this backend's kernels
     * read fastest. The result is only ever passed back to this backend.
     */
    Tensor prepareWeight(Tensor weight, DeviceRef device);

    /**
     * {@code y = x · wᵀ (+ bias)}: x is F32 {@code (M, K)}; w a prepared F32, BF16 or F16
     * {@code (N, K)}; bias null or a float {@code (N,)}; y F32 {@code (M, N)}, every element written.
     */
    void linear(Tensor x, Tensor w, Tensor bias, Tensor y);

    /**
     * Moves a quantised weight onto {@code device} once, at load, in this backend's kernel layout.
     * The result is only ever passed back to this backend.
     */
    PreparedMatrix prepareQuantized(QuantizedMatrix matrix, DeviceRef device);

    /**
     * {@code y = x · dequant(w)ᵀ (+ bias)} with the dequantisation fused into the product: x F32
     * {@code (M, K)}, bias null or a float {@code (N,)}, y F32 {@code (M, N)}, every element written.
     */
    void quantizedLinear(Tensor x, PreparedMatrix w, Tensor bias, Tensor y);

    /**
     * The gated activation of an MLP: {@code gateUp} is F32 {@code (M, 2F)} holding gate in its
     * first F columns and up in its last F; {@code out} is F32 {@code (M, F)} and receives
     * {@code act(gate) · up}.
     */
    void gatedActivation(Activation act, Tensor gateUp, Tensor out);

    /**
     * A whole gated MLP forward, {@code y = (act(x·W_gᵀ + b_g) · (x·W_uᵀ + b_u))·W_dᵀ + b_d}: {@code gateUpW}
     * is a prepared {@code (2F, H)} weight holding gate in its first F rows and up in its last F,
     * {@code downW} a prepared {@code (H, F)} one, biases null or prepared; x F32 {@code (M, H)}, y F32
     * {@code (M, H)}. A device backend overrides it to keep the intermediates on the device; this default
     * runs the two products and the gated activation one after the other.
     */
    default void gatedMlp(Activation act, Tensor x, Tensor gateUpW, Tensor gateUpBias, Tensor downW, Tensor downBias,
                          Tensor y) {
        linear(gatedHidden(act, x, gateUpW, gateUpBias), downW, downBias, y);
    }

    /**
     * The MLP's hidden activations, {@code act(x·W_gᵀ + b_g) · (x·W_uᵀ + b_u)}, F32 {@code (M, F)} on
     * x's device, for {@code gateUpW} a prepared {@code (2F, H)} weight as in {@link #gatedMlp}.
     */
    default Tensor gatedHidden(Activation act, Tensor x, Tensor gateUpW, Tensor gateUpBias) {
        int m = x.shape().dim(0);
        int f = gateUpW.shape().dim(0) / 2;
        Tensor gateUp = Tensor.allocate(DType.F32, Shape.of(m, 2 * f), x.device());
        linear(x, gateUpW, gateUpBias, gateUp);
        Tensor h = Tensor.allocate(DType.F32, Shape.of(m, f), x.device());
        gatedActivation(act, gateUp, h);
        return h;
    }

    /** Whether {@link #prepareQuantized} and {@link #quantizedLinear} work on this backend's devices. */
    default boolean supportsQuantized() {
        return true;
    }

    /** The devices this backend can run on right now, for {@code tornado-nn devices}. */
    java.util.List<DeviceInfo> devices();
}

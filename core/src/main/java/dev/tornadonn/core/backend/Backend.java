package dev.tornadonn.core.backend;

import dev.tornadonn.core.Activation;
import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.weights.WeightKind;
import dev.tornadonn.core.weights.WeightMatrix;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

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

    /** The weight kinds {@link #prepare} takes on {@code device}. */
    default Set<WeightKind> weightKinds(DeviceRef device) {
        return EnumSet.allOf(WeightKind.class);
    }

    /** A copy of {@code t}'s elements owned by {@code device}, same dtype and shape. */
    Tensor copyTo(Tensor t, DeviceRef device);

    /**
     * Copies a weight onto {@code device} once, in the layout this backend's kernels read, and
     * keeps nothing else of it. {@code rowBlocks} are stacked along the output features (an MLP's
     * gate and up projections become one {@code (2F, H)} weight); they share their kind and input
     * features. {@code bias} is null or a float {@code (Σ rows,)} tensor.
     */
    PreparedMatrix prepare(List<? extends WeightMatrix> rowBlocks, Tensor bias, DeviceRef device);

    /** {@code y = x · wᵀ + bias}: x F32 {@code (M, K)}, y F32 {@code (M, N)}, every element written. */
    void linear(Tensor x, PreparedMatrix w, Tensor y);

    /**
     * The gated activation of an MLP: {@code gateUp} is F32 {@code (M, 2F)} holding gate in its
     * first F columns and up in its last F; {@code out} is F32 {@code (M, F)} and receives
     * {@code act(gate) · up}.
     */
    void gatedActivation(Activation act, Tensor gateUp, Tensor out);

    /**
     * A whole gated MLP forward, {@code y = (act(x·W_gᵀ + b_g) · (x·W_uᵀ + b_u))·W_dᵀ + b_d}, for
     * {@code gateUp} prepared from the gate and up blocks (in that order) and {@code down}
     * {@code (H, F)}; x and y F32 {@code (M, H)}. A device backend overrides it to keep the
     * intermediates on the device; this default runs the steps one after the other.
     */
    default void gatedMlp(Activation act, Tensor x, PreparedMatrix gateUp, PreparedMatrix down, Tensor y) {
        linear(gatedHidden(act, x, gateUp), down, y);
    }

    /**
     * The MLP's hidden activations, {@code act(x·W_gᵀ + b_g) · (x·W_uᵀ + b_u)}, F32 {@code (M, F)} on
     * x's device, for {@code gateUp} as in {@link #gatedMlp}.
     */
    default Tensor gatedHidden(Activation act, Tensor x, PreparedMatrix gateUp) {
        int m = x.shape().dim(0);
        int f = gateUp.rows() / 2;
        Tensor gu = Tensor.allocate(DType.F32, Shape.of(m, 2 * f), x.device());
        linear(x, gateUp, gu);
        Tensor h = Tensor.allocate(DType.F32, Shape.of(m, f), x.device());
        gatedActivation(act, gu, h);
        return h;
    }

    /** The devices this backend can run on right now, for {@code tornado-nn devices}. */
    List<DeviceInfo> devices();
}

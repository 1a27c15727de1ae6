package dev.tornadonn.layers;

import dev.tornadonn.core.Activation;
import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.backend.Backend;
import dev.tornadonn.core.backend.Backends;
import dev.tornadonn.core.backend.PreparedMatrix;
import dev.tornadonn.core.io.TensorSource;
import java.util.List;
import java.util.Objects;

/**
 * The gated feed-forward block, {@code down(act(gate(x)) · up(x))}, for projections of any weight
 * kind. Gate and up are prepared as one {@code (2F, hidden)} weight, so a forward is two products
 * and one gated activation (on a device backend, one task graph); unlike MAX's fused path it takes
 * inputs of any rank ≥ 1 and honours clipping and every bias. With an output dtype other than
 * F32 (MAX's fp8 MLP), gate, up and down outputs are each rounded to it, as three fp8 linears give.
 */
public final class MLP extends MatrixLayer implements AutoCloseable {
    private final String name;
    private final Backend backend;
    private final PreparedMatrix gateUp;
    private final PreparedMatrix down;
    private final Activation activation;
    private final DType outputDType;
    private final String format;

    private MLP(String name, Backend backend, PreparedMatrix gateUp, PreparedMatrix down, Activation activation,
                DType outputDType, String format) {
        this.name = name;
        this.backend = backend;
        this.gateUp = gateUp;
        this.down = down;
        this.activation = activation;
        this.outputDType = outputDType;
        this.format = format;
    }

    /** Loads the three dense projections strictly: any missing, unexpected or mismatched key fails and loads nothing. */
    public static MLP load(MlpConfig config, TensorSource source) {
        return of(config.read(source), config.activation(), config.device());
    }

    public static MLP of(MlpWeights weights, Activation activation, DeviceRef device) {
        return of(weights, activation, device, DType.F32);
    }

    /** Prepares the projections on {@code device}, gate and up as one weight. */
    public static MLP of(MlpWeights weights, Activation activation, DeviceRef device, DType outputDType) {
        Objects.requireNonNull(activation, "activation");
        Objects.requireNonNull(device, "device");
        Prepared.checkOutputDType(outputDType);
        Backend backend = Backends.forDevice(device);
        String layer = named("MLP", weights.name());
        Tensor gateUpBias = concatBiases(weights.gate(), weights.up());
        PreparedMatrix gu = Prepared.on(backend, device, List.of(weights.gate().weight(), weights.up().weight()), gateUpBias, layer);
        PreparedMatrix d = Prepared.on(backend, device, List.of(weights.down().weight()), weights.down().bias(), layer);
        return new MLP(weights.name(), backend, gu, d, activation, outputDType, weights.gate().weight().describe());
    }

    /** Gate's bias then up's, F32; a bias present on only one is kept with zeros for the other (MAX drops it). */
    private static Tensor concatBiases(LinearWeights gate, LinearWeights up) {
        if (gate.bias() == null && up.bias() == null) {
            return null;
        }
        int f = gate.outDim();
        Tensor b = Tensor.allocate(DType.F32, Shape.of(2 * f));
        for (int j = 0; j < f; j++) {
            b.setFloat(j, gate.bias() == null ? 0f : gate.bias().getFloat(j));
            b.setFloat(f + j, up.bias() == null ? 0f : up.bias().getFloat(j));
        }
        return b;
    }

    public String name() {
        return name;
    }

    public Activation activation() {
        return activation;
    }

    public int hiddenDim() {
        return down.rows();
    }

    public int feedForwardDim() {
        return down.cols();
    }

    /** Bytes the device holds of the three projections. */
    public long weightBytes() {
        return gateUp.bytes() + down.bytes();
    }

    /**
     * {@code act(gate(x)) · up(x)}, F32 {@code (..., F)}: the down projection's input, for callers
     * that fuse the down projection with a reduction (see {@link #downProjection}).
     */
    public Tensor hiddenActivations(Tensor x) {
        Tensor x2d = Inputs.asMatrix(x, hiddenDim(), device(), describe());
        return hidden(x2d).reshape(x.shape().withLast(feedForwardDim()));
    }

    /** {@code y2d = h2d · W_downᵀ + b_down}, F32 {@code (M, hidden)}. */
    public void downProjection(Tensor h2d, Tensor y2d) {
        backend.linear(h2d, down, y2d);
        Prepared.round(y2d, outputDType);
    }

    @Override
    public int inDim() {
        return hiddenDim();
    }

    @Override
    public int outDim() {
        return hiddenDim();
    }

    @Override
    public DeviceRef device() {
        return down.device();
    }

    @Override
    protected void apply(Tensor x2d, Tensor y2d) {
        if (outputDType == DType.F32) {
            backend.gatedMlp(activation, x2d, gateUp, down, y2d);
        } else {
            downProjection(hidden(x2d), y2d);
        }
    }

    /** {@code act(gate) · up}, F32 {@code (M, F)}. */
    private Tensor hidden(Tensor x2d) {
        if (outputDType == DType.F32) {
            return backend.gatedHidden(activation, x2d, gateUp);
        }
        int m = x2d.shape().dim(0);
        Tensor gu = Tensor.allocate(DType.F32, Shape.of(m, gateUp.rows()), device());
        backend.linear(x2d, gateUp, gu);
        Prepared.round(gu, outputDType);
        Tensor h = Tensor.allocate(DType.F32, Shape.of(m, feedForwardDim()), device());
        backend.gatedActivation(activation, gu, h);
        return h;
    }

    @Override
    public void close() {
        gateUp.close();
        down.close();
    }

    @Override
    protected String describe() {
        return named("MLP", name);
    }

    @Override
    public String toString() {
        return describe() + "(" + hiddenDim() + " -> " + feedForwardDim() + " -> " + hiddenDim() + ", "
                + activation.configName() + ", " + format + (down.hasBias() || gateUp.hasBias() ? ", bias" : "")
                + (outputDType == DType.F32 ? "" : ", out " + outputDType) + ", " + device() + ", " + backend.name() + ")";
    }
}

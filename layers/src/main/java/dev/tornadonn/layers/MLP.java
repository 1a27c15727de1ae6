package dev.tornadonn.layers;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.Weight;
import dev.tornadonn.core.backend.Backend;
import dev.tornadonn.core.backend.Backends;
import dev.tornadonn.core.io.TensorSource;
import java.util.List;
import java.util.Map;

/**
 * The gated feed-forward block. Gate and up are concatenated once, at load, into one
 * {@code (2F, hidden)} weight, so a forward is two GEMMs and one gated activation; unlike MAX's
 * fused path it takes inputs of any rank ≥ 1 and honours clipping and every bias.
 */
public final class MLP extends MatrixLayer {
    private final MlpConfig config;
    private final LinearOp gateUp;
    private final LinearOp down;

    private MLP(MlpConfig config, LinearOp gateUp, LinearOp down) {
        this.config = config;
        this.gateUp = gateUp;
        this.down = down;
    }

    /** Loads the three projections strictly: any missing, unexpected or mismatched key fails and loads nothing. */
    public static MLP load(MlpConfig config, TensorSource source) {
        Map<String, Tensor> t = StrictLoader.load(source, config.name(), config.weights());
        LinearConfig g = config.gateProj();
        LinearConfig u = config.upProj();
        LinearConfig d = config.downProj();
        Tensor gateW = WeightClipping.clip(t.get(g.weightKey()), config.clipWeight());
        Tensor upW = WeightClipping.clip(t.get(u.weightKey()), config.clipWeight());
        Tensor downW = WeightClipping.clip(t.get(d.weightKey()), config.clipWeight());
        Backend backend = Backends.forDevice(config.device());
        Tensor fusedW = concatRows(gateW, upW);
        Tensor fusedB = config.hasBias() ? concatRows(t.get(g.biasKey()), t.get(u.biasKey())) : null;
        return new MLP(config,
                LinearOp.prepare(backend, config.device(), fusedW, fusedB),
                LinearOp.prepare(backend, config.device(), downW, config.hasBias() ? t.get(d.biasKey()) : null));
    }

    private static Tensor concatRows(Tensor a, Tensor b) {
        int[] dims = a.shape().dims();
        dims[0] += b.shape().dim(0);
        Tensor out = Tensor.allocate(a.dtype(), Shape.of(dims));
        out.data().asSlice(0, a.data().byteSize()).copyFrom(a.data());
        out.data().asSlice(a.data().byteSize()).copyFrom(b.data());
        return out;
    }

    public MlpConfig config() {
        return config;
    }

    @Override
    public List<Weight> weights() {
        return config.weights();
    }

    @Override
    public int inDim() {
        return config.hiddenDim();
    }

    @Override
    public int outDim() {
        return config.hiddenDim();
    }

    @Override
    public DeviceRef device() {
        return config.device();
    }

    @Override
    protected void apply(Tensor x2d, Tensor y2d) {
        down.apply(hidden(x2d), y2d);
    }

    /** {@code act(gate) · up}, F32 {@code (M, F)}. */
    private Tensor hidden(Tensor x2d) {
        int m = x2d.shape().dim(0);
        Tensor gu = gateUp.apply(x2d);
        Tensor h = Tensor.allocate(DType.F32, Shape.of(m, config.feedForwardDim()), config.device());
        gateUp.backend().gatedActivation(config.activation(), gu, h);
        return h;
    }

    @Override
    protected String describe() {
        return named("MLP", config.name());
    }

    @Override
    public String toString() {
        return describe() + "(" + config.hiddenDim() + " -> " + config.feedForwardDim() + " -> " + config.hiddenDim()
                + ", " + config.activation().configName() + ", " + config.dtype() + (config.hasBias() ? ", bias" : "")
                + ", " + config.device() + ", " + gateUp.backend().name() + ")";
    }
}

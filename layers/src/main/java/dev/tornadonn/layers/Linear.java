package dev.tornadonn.layers;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.backend.Backend;
import dev.tornadonn.core.backend.Backends;
import dev.tornadonn.core.backend.PreparedMatrix;
import dev.tornadonn.core.io.TensorSource;
import dev.tornadonn.core.weights.WeightKind;
import java.util.List;
import java.util.Objects;

/**
 * {@code y = x · Wᵀ + b}, MAX's {@code Linear}, for a weight of any kind (dense, GPTQ, FP8): W is
 * {@code (out, in)}, x any rank ≥ 1 with last dimension {@code in}; leading dimensions are kept.
 * The weight is prepared on the device once, at construction, and nothing else of it is kept.
 * Outputs are F32 tensors holding values of the layer's output dtype (F32, or BF16 as MAX's fp8
 * layers give); {@link #forward(Tensor, Tensor)} also fills an output-dtype tensor.
 */
public final class Linear extends MatrixLayer implements AutoCloseable {
    private final String name;
    private final Backend backend;
    private final PreparedMatrix weight;
    private final DType outputDType;
    private final String format;

    private Linear(String name, Backend backend, PreparedMatrix weight, DType outputDType, String format) {
        this.name = name;
        this.backend = backend;
        this.weight = weight;
        this.outputDType = outputDType;
        this.format = format;
    }

    /** Reads the layer {@code spec} describes, strictly, and prepares it on {@code spec.device()}. */
    public static Linear load(LinearSpec spec, TensorSource source) {
        return of(spec.read(source), spec.device(), spec.outputDType());
    }

    /** A dense layer from tensors in hand; they are checked against the config like loaded ones. */
    public static Linear of(LinearConfig config, Tensor weight, Tensor bias) {
        return of(config.weightsOf(weight, bias), config.device());
    }

    public static Linear of(LinearWeights weights, DeviceRef device) {
        return of(weights, device, DType.F32);
    }

    /** Prepares {@code weights} on {@code device}; outputs are rounded to {@code outputDType}. */
    public static Linear of(LinearWeights weights, DeviceRef device, DType outputDType) {
        Objects.requireNonNull(device, "device");
        Prepared.checkOutputDType(outputDType);
        Backend backend = Backends.forDevice(device);
        String layer = named("Linear", weights.name());
        PreparedMatrix w = Prepared.on(backend, device, List.of(weights.weight()), weights.bias(), layer);
        return new Linear(weights.name(), backend, w, outputDType, weights.weight().describe());
    }

    public String name() {
        return name;
    }

    public WeightKind weightKind() {
        return weight.kind();
    }

    public DType outputDType() {
        return outputDType;
    }

    /** The weight as the backend holds it: its bytes, its kind. */
    public PreparedMatrix prepared() {
        return weight;
    }

    public boolean hasBias() {
        return weight.hasBias();
    }

    @Override
    public int inDim() {
        return weight.cols();
    }

    @Override
    public int outDim() {
        return weight.rows();
    }

    @Override
    public DeviceRef device() {
        return weight.device();
    }

    @Override
    protected void apply(Tensor x2d, Tensor y2d) {
        backend.linear(x2d, weight, y2d);
        Prepared.round(y2d, outputDType);
    }

    /** {@code out} is F32, or of the output dtype, of shape {@code x.shape[:-1] + (out,)}. */
    @Override
    public void forward(Tensor x, Tensor out) {
        if (out.dtype() == DType.F32 || out.dtype() != outputDType) {
            super.forward(x, out);
            return;
        }
        if (!out.shape().equals(x.shape().withLast(outDim())) || !out.device().equals(device())) {
            throw new ConfigException(describe() + ": output must be " + outputDType + " or F32 "
                    + x.shape().withLast(outDim()) + " on " + device() + ", got " + out);
        }
        Tensor y = forward(x);
        for (long i = 0; i < y.numel(); i++) {
            out.setFloat(i, y.getFloat(i)); // exact: y already holds values of the output dtype
        }
    }

    /** Frees what the device holds of the weight; the layer must not be used afterwards. */
    @Override
    public void close() {
        weight.close();
    }

    @Override
    protected String describe() {
        return named("Linear", name);
    }

    @Override
    public String toString() {
        return describe() + "(" + inDim() + " -> " + outDim() + ", " + format + (hasBias() ? ", bias" : "")
                + (outputDType == DType.F32 ? "" : ", out " + outputDType) + ", " + device() + ", " + backend.name() + ")";
    }
}

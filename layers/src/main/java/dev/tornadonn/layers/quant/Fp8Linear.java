package dev.tornadonn.layers.quant;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.Weight;
import dev.tornadonn.core.WeightLoadException;
import dev.tornadonn.core.backend.Backend;
import dev.tornadonn.core.backend.Backends;
import dev.tornadonn.core.backend.PreparedMatrix;
import dev.tornadonn.core.io.KeyHints;
import dev.tornadonn.core.io.TensorSource;
import dev.tornadonn.core.numeric.Float8Format;
import dev.tornadonn.core.quant.Fp8InputQuantization;
import dev.tornadonn.core.quant.Fp8Matrix;
import dev.tornadonn.core.quant.Fp8WeightScale;
import dev.tornadonn.layers.Keys;
import dev.tornadonn.layers.sharding.ShardingStrategy;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code y = round_out(Σ xq·wq·sx·sw + b)}: MAX's fp8 {@code Linear}, with every input/weight
 * scale granularity pair executable, inputs of any rank ≥ 1, the config's activation bound, and
 * the dequantisation fused into the backend's product. The bias is added to the f32 result before
 * the single rounding to the output dtype. Outputs are F32 tensors holding values of the output
 * dtype ({@link Layer}'s contract); {@link #forward(Tensor, Tensor)} also fills an output-dtype tensor.
 */
public final class Fp8Linear extends QuantizedLinearLayer<Fp8Matrix> {
    private final Fp8LinearConfig config;
    private final ShardingStrategy strategy;
    private final boolean isShard;

    private Fp8Linear(Fp8LinearConfig config, Backend backend, PreparedMatrix weight, Tensor bias, Fp8Matrix matrix,
                      DeviceRef device, ShardingStrategy strategy, boolean isShard) {
        super(backend, weight, bias, matrix, device);
        this.config = config;
        this.strategy = strategy;
        this.isShard = isShard;
    }

    /**
     * Reads {@code P.weight}, {@code P.weight_scale} (or {@code P.weight_scale_inv}),
     * {@code P.input_scale} (static inputs only) and {@code P.bias} (when hasBias), strictly: every
     * problem is collected into one {@link WeightLoadException} and nothing is loaded.
     */
    public static Fp8Linear load(Fp8LinearConfig config, TensorSource source) {
        Set<String> names = source.names();
        List<String> problems = new ArrayList<>();
        Set<String> used = new LinkedHashSet<>();
        String scaleKey = config.weightScaleKey();
        if (names.contains(config.weightScaleInvKey())) {
            if (names.contains(scaleKey)) {
                problems.add("both '" + scaleKey + "' and '" + config.weightScaleInvKey()
                        + "' are present; a checkpoint has one weight scale");
            }
            scaleKey = config.weightScaleInvKey();
        }
        List<String> expected = new ArrayList<>(List.of(config.weightKey(), scaleKey));
        if (config.float8().isStatic()) {
            expected.add(config.inputScaleKey());
        }
        if (config.hasBias()) {
            expected.add(config.biasKey());
        }
        for (String key : expected) {
            if (names.contains(key)) {
                used.add(key);
            } else {
                problems.add("missing key '" + key + "'" + KeyHints.didYouMean(key,
                        names.stream().filter(n -> !expected.contains(n)).toList()));
            }
        }
        for (String n : names) {
            if (Keys.isUnder(n, config.name()) && !expected.contains(n)) {
                String why = n.equals(config.inputScaleKey()) ? " (input scales are dynamic, so the layer reads no input_scale)"
                        : n.equals(config.biasKey()) ? " (the config has no bias)" : "";
                problems.add("unexpected key '" + n + "'" + why);
            }
        }
        Tensor w = get(source, used, config.weightKey());
        Tensor ws = get(source, used, scaleKey);
        Tensor is = get(source, used, config.inputScaleKey());
        Tensor b = get(source, used, config.biasKey());
        problems.addAll(check(config, w, scaleKey, ws, is, b));
        if (!problems.isEmpty()) {
            throw new WeightLoadException(source.describe() + ": " + String.join("; ", problems)
                    + " (the layer expects: " + String.join(", ", expected) + ")");
        }
        return build(config, w, ws, is, b);
    }

    /** Builds the layer from tensors in hand (inputScale null unless static, bias null unless hasBias), checked like loaded ones. */
    public static Fp8Linear of(Fp8LinearConfig config, Tensor weight, Tensor weightScale, Tensor inputScale, Tensor bias) {
        List<String> problems = new ArrayList<>();
        if (weight == null || weightScale == null) {
            problems.add("weight and weight scale are required");
        }
        if (config.float8().isStatic() != (inputScale != null)) {
            problems.add("input_scale must be " + (config.float8().isStatic() ? "given: input scales are static" : "null: input scales are dynamic"));
        }
        if (config.hasBias() != (bias != null)) {
            problems.add("config says hasBias=" + config.hasBias() + " but bias is " + (bias == null ? "absent" : "present"));
        }
        if (problems.isEmpty()) {
            problems.addAll(check(config, weight, config.weightScaleKey(), weightScale, inputScale, bias));
        }
        if (!problems.isEmpty()) {
            throw new WeightLoadException(String.join("; ", problems));
        }
        return build(config, weight, weightScale, inputScale, bias);
    }

    private static Tensor get(TensorSource source, Set<String> used, String key) {
        return used.contains(key) ? source.get(key) : null;
    }

    /** Every dtype, shape and value problem of the tensors present (absent ones were reported already). */
    private static List<String> check(Fp8LinearConfig c, Tensor w, String scaleKey, Tensor ws, Tensor is, Tensor b) {
        List<String> p = new ArrayList<>();
        int n = c.outDim();
        int k = c.inDim();
        if (w != null) {
            expect(p, c.weightKey(), w, Set.of(c.weightDType()), Shape.of(n, k), null);
        }
        if (ws != null) {
            Float8WeightScaleSpec spec = c.float8().weightScale();
            Shape want = spec.scaleShape(n, k);
            String hint = switch (spec.granularity()) {
                case BLOCK -> " = (ceil(" + n + "/" + spec.blockSize().rows() + "), ceil(" + k + "/" + spec.blockSize().cols()
                        + ")) for BLOCK " + spec.blockSize() + " scales of a " + n + " x " + k + " weight";
                case ROWWISE -> " for ROWWISE scales (one per output channel)";
                default -> " or (1,) for a TENSOR scale";
            };
            if (expect(p, scaleKey, ws, Set.of(DType.F32, DType.BF16), want, hint)) {
                finite(p, scaleKey, ws, false);
            }
        }
        if (is != null && expect(p, c.inputScaleKey(), is, Set.of(DType.F32, DType.BF16), Shape.of(), " or (1,) for a static input scale")) {
            finite(p, c.inputScaleKey(), is, true);
        }
        if (b != null) {
            expect(p, c.biasKey(), b, Set.of(DType.BF16, DType.F16, DType.F32), Shape.of(n), null);
        }
        return p;
    }

    /** Adds a problem and returns false unless t has one of the dtypes and the shape (a scalar may also be (1,)). */
    private static boolean expect(List<String> p, String key, Tensor t, Set<DType> dtypes, Shape shape, String hint) {
        boolean ok = true;
        if (!dtypes.contains(t.dtype())) {
            p.add("tensor '" + key + "' has dtype " + t.dtype() + ", expected " + (dtypes.size() == 1 ? dtypes.iterator().next() : "one of " + dtypes));
            ok = false;
        }
        boolean scalar = shape.rank() == 0 && t.shape().equals(Shape.of(1));
        if (!t.shape().equals(shape) && !scalar) {
            p.add("tensor '" + key + "' has shape " + t.shape() + ", expected " + shape + (hint == null ? "" : hint));
            ok = false;
        }
        return ok;
    }

    private static void finite(List<String> p, String key, Tensor t, boolean positive) {
        for (long i = 0; i < t.numel(); i++) {
            float v = t.getFloat(i);
            if (!Float.isFinite(v) || v < 0 || (positive && v == 0)) {
                p.add("tensor '" + key + "' element " + i + " is " + v + ", expected a finite " + (positive ? "positive" : "non-negative") + " scale");
                return;
            }
        }
    }

    private static Fp8Linear build(Fp8LinearConfig c, Tensor w, Tensor ws, Tensor is, Tensor b) {
        Float8Format format = c.weightDType() == DType.F8_E4M3FN ? Float8Format.E4M3FN : Float8Format.E5M2;
        byte[] codes = new byte[Math.multiplyExact(c.outDim(), c.inDim())];
        java.lang.foreign.MemorySegment.copy(w.data(), java.lang.foreign.ValueLayout.JAVA_BYTE, 0, codes, 0, codes.length);
        float[] scales = ws.toFloatArray();
        Float8WeightScaleSpec wspec = c.float8().weightScale();
        Fp8WeightScale weightScale = switch (wspec.granularity()) {
            case TENSOR -> new Fp8WeightScale.PerTensor(scales[0]);
            case ROWWISE -> new Fp8WeightScale.PerRow(scales);
            case BLOCK -> new Fp8WeightScale.Block(wspec.blockSize().rows(), wspec.blockSize().cols(), scales);
            case COLWISE -> throw new AssertionError("rejected by Float8WeightScaleSpec");
        };
        Float8InputScaleSpec ispec = c.float8().inputScale();
        float ub = ispec.upperBound();
        Fp8InputQuantization input = ispec.isStatic() ? new Fp8InputQuantization.Static(format, is.getFloat(0))
                : switch (ispec.granularity()) {
                    case TENSOR -> new Fp8InputQuantization.DynamicPerTensor(format, ub);
                    case COLWISE -> new Fp8InputQuantization.DynamicPerToken(format, ub);
                    case BLOCK -> new Fp8InputQuantization.DynamicBlock(format, ispec.blockSize().cols(), ub);
                    case ROWWISE -> throw new AssertionError("rejected by Float8InputScaleSpec");
                };
        Backend backend = Backends.forDevice(c.device());
        Fp8Matrix matrix = new Fp8Matrix(c.outDim(), c.inDim(), format, codes, weightScale, input);
        PreparedMatrix prepared = backend.prepareQuantized(matrix, c.device());
        Tensor bias = b == null ? null : backend.prepareWeight(b, c.device());
        return new Fp8Linear(c, backend, prepared, bias, matrix, c.device(), null, false);
    }

    public Fp8LinearConfig config() {
        return config;
    }

    /** This layer, same weights, to be cut by {@code s} on {@link #shard}. */
    public Fp8Linear withShardingStrategy(ShardingStrategy s) {
        return new Fp8Linear(config, backend, weight, bias, matrix, device, java.util.Objects.requireNonNull(s), isShard);
    }

    /**
     * One layer per device, cut like a plain Linear by the strategy, the weight scales with the
     * rows or columns they belong to. Refused, with the reason: block scales straddling a shard
     * boundary, and splitting the input features of a layer whose inputs are scaled per token or
     * per tensor (each shard would see only its slice of x).
     */
    public List<Fp8Linear> shard(List<DeviceRef> devices) {
        return shardWith(strategy, devices,
                (be, w, b, m, dev) -> new Fp8Linear(config, be, w, b, m, dev, null, true),
                (m, i) -> QuantizedSharding.shard(m, strategy, i));
    }

    @Override
    public List<Weight> weights() {
        return isShard ? List.of() : config.weights(); // a shard is cut from tensors, not loaded
    }

    /** {@code out} is F32 or the output dtype, of shape {@code x.shape[:-1] + (out,)}. */
    @Override
    public void forward(Tensor x, Tensor out) {
        DType outType = config.float8().outputDType();
        if (out.dtype() == DType.F32 || out.dtype() != outType) {
            super.forward(x, out);
            return;
        }
        if (!out.shape().equals(x.shape().withLast(outDim())) || !out.device().equals(device)) {
            throw new IllegalArgumentException(describe() + ": output must be " + outType + " or F32 "
                    + x.shape().withLast(outDim()) + " on " + device + ", got " + out);
        }
        Tensor y = forward(x);
        for (long i = 0; i < y.numel(); i++) {
            out.setFloat(i, y.getFloat(i)); // exact: y already holds values of outType
        }
    }

    @Override
    protected void apply(Tensor x2d, Tensor y2d) {
        super.apply(x2d, y2d);
        DType outType = config.float8().outputDType();
        if (outType != DType.F32) {
            for (long i = 0; i < y2d.numel(); i++) {
                y2d.setFloat(i, outType.round(y2d.getFloat(i)));
            }
        }
    }

    @Override
    protected String describe() {
        return named("Fp8Linear", config.name());
    }

    @Override
    public String toString() {
        return describe() + "(" + inDim() + " -> " + outDim() + ", " + config.weightDType() + ", "
                + config.float8() + (bias != null ? ", bias" : "") + ", " + device + ", " + backend.name() + ")";
    }
}

package dev.tornadonn.layers.quant;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.WeightLoadException;
import dev.tornadonn.core.io.KeyHints;
import dev.tornadonn.core.io.TensorSource;
import dev.tornadonn.core.numeric.Float8Format;
import dev.tornadonn.core.weights.Fp8InputQuantization;
import dev.tornadonn.core.weights.Fp8Matrix;
import dev.tornadonn.core.weights.Fp8WeightScale;
import dev.tornadonn.layers.Keys;
import dev.tornadonn.layers.LinearWeights;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Reads MAX's fp8 {@code Linear} from a checkpoint: every input/weight scale granularity pair is
 * executable and the codes are kept as the checkpoint holds them, a view until a backend
 * prepares them. The output dtype is the layer's ({@link Fp8LinearConfig#outputDType}).
 */
final class Fp8Weights {
    private Fp8Weights() {}

    /**
     * Reads {@code P.weight}, {@code P.weight_scale} (or {@code P.weight_scale_inv}),
     * {@code P.input_scale} (or transformers' {@code P.activation_scale}; static inputs only) and {@code P.bias} (when hasBias), strictly: every
     * problem is collected into one {@link WeightLoadException} and nothing is read.
     */
    static LinearWeights read(Fp8LinearConfig config, TensorSource source) {
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
        String inputKey = config.inputScaleKey();
        if (config.float8().isStatic() && names.contains(config.activationScaleKey())) {
            if (names.contains(inputKey)) {
                problems.add("both '" + inputKey + "' and '" + config.activationScaleKey()
                        + "' are present; a checkpoint has one input scale");
            }
            inputKey = config.activationScaleKey();
        }
        List<String> expected = new ArrayList<>(List.of(config.weightKey(), scaleKey));
        if (config.float8().isStatic()) {
            expected.add(inputKey);
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
                String why = n.equals(config.inputScaleKey()) || n.equals(config.activationScaleKey())
                        ? (config.float8().isWeightOnly() ? " (the config quantises weights only, so the layer reads no input scale)"
                                : " (input scales are dynamic, so the layer reads no input_scale)")
                        : n.equals(config.biasKey()) ? " (the config has no bias)" : "";
                problems.add("unexpected key '" + n + "'" + why);
            }
        }
        Tensor w = get(source, used, config.weightKey());
        Tensor ws = get(source, used, scaleKey);
        Tensor is = get(source, used, inputKey);
        Tensor b = get(source, used, config.biasKey());
        problems.addAll(check(config, w, scaleKey, ws, inputKey, is, b));
        if (!problems.isEmpty()) {
            throw new WeightLoadException(source.describe() + ": " + String.join("; ", problems)
                    + " (the layer expects: " + String.join(", ", expected) + ")");
        }
        return new LinearWeights(config.name(), matrix(config, w, ws, is), b, Set.copyOf(expected));
    }

    /** Builds the layer from tensors in hand (inputScale null unless static, bias null unless hasBias), checked like loaded ones. */
    static LinearWeights of(Fp8LinearConfig config, Tensor weight, Tensor weightScale, Tensor inputScale, Tensor bias) {
        List<String> problems = new ArrayList<>();
        if (weight == null || weightScale == null) {
            problems.add("weight and weight scale are required");
        }
        if (config.float8().isStatic() != (inputScale != null)) {
            problems.add("input_scale must be " + (config.float8().isStatic() ? "given: input scales are static"
                    : config.float8().isWeightOnly() ? "null: x is not quantised" : "null: input scales are dynamic"));
        }
        if (config.hasBias() != (bias != null)) {
            problems.add("config says hasBias=" + config.hasBias() + " but bias is " + (bias == null ? "absent" : "present"));
        }
        if (problems.isEmpty()) {
            problems.addAll(check(config, weight, config.weightScaleKey(), weightScale, config.inputScaleKey(), inputScale, bias));
        }
        if (!problems.isEmpty()) {
            throw new WeightLoadException(String.join("; ", problems));
        }
        return new LinearWeights(config.name(), matrix(config, weight, weightScale, inputScale), bias, Set.of());
    }

    private static Tensor get(TensorSource source, Set<String> used, String key) {
        return used.contains(key) ? source.get(key) : null;
    }

    /** Every dtype, shape and value problem of the tensors present (absent ones were reported already). */
    private static List<String> check(Fp8LinearConfig c, Tensor w, String scaleKey, Tensor ws, String inputKey, Tensor is,
                                      Tensor b) {
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
                default -> " (or (1,) or (1, 1)) for a TENSOR scale";
            };
            if (expect(p, scaleKey, ws, SCALE_DTYPES, want, hint)) {
                finite(p, scaleKey, ws, false);
            }
        }
        if (is != null && expect(p, inputKey, is, SCALE_DTYPES, Shape.of(), " (or (1,) or (1, 1)) for a static input scale")) {
            finite(p, inputKey, is, true);
        }
        if (b != null) {
            expect(p, c.biasKey(), b, Set.of(DType.BF16, DType.F16, DType.F32), Shape.of(n), null);
        }
        return p;
    }

    /** Scales as the tools write them: F32, BF16 (for bf16 models) or F16 (compressed-tensors for fp16 models). */
    private static final Set<DType> SCALE_DTYPES = Set.of(DType.F32, DType.BF16, DType.F16);

    /** Adds a problem and returns false unless t has one of the dtypes and the shape (a scalar may also be (1,) or (1, 1)). */
    private static boolean expect(List<String> p, String key, Tensor t, Set<DType> dtypes, Shape shape, String hint) {
        boolean ok = true;
        if (!dtypes.contains(t.dtype())) {
            p.add("tensor '" + key + "' has dtype " + t.dtype() + ", expected " + (dtypes.size() == 1 ? dtypes.iterator().next() : "one of " + dtypes));
            ok = false;
        }
        boolean scalar = shape.rank() == 0 && (t.shape().equals(Shape.of(1)) || t.shape().equals(Shape.of(1, 1)));
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

    private static Fp8Matrix matrix(Fp8LinearConfig c, Tensor w, Tensor ws, Tensor is) {
        Float8Format format = c.weightDType() == DType.F8_E4M3FN ? Float8Format.E4M3FN : Float8Format.E5M2;
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
        // Dynamic schemes quantise x to e4m3fn whatever the weights (vLLM; MAX's dynamic kernels
        // require an e4m3 output): one more mantissa bit than e5m2. A static scale was calibrated
        // for the checkpoint's own format, so x takes the weight's.
        Float8Format inputFormat = Float8Format.E4M3FN;
        Fp8InputQuantization input = ispec.isStatic() ? new Fp8InputQuantization.Static(format, is.getFloat(0))
                : ispec.isWeightOnly() ? new Fp8InputQuantization.WeightOnly()
                : switch (ispec.granularity()) {
                    case TENSOR -> new Fp8InputQuantization.DynamicPerTensor(inputFormat, ub);
                    case COLWISE -> new Fp8InputQuantization.DynamicPerToken(inputFormat, ub);
                    case BLOCK -> new Fp8InputQuantization.DynamicBlock(inputFormat, ispec.blockSize().cols(), ub);
                    case ROWWISE -> throw new AssertionError("rejected by Float8InputScaleSpec");
                };
        return new Fp8Matrix(c.outDim(), c.inDim(), format, w, weightScale, input);
    }
}

package dev.tornadonn.layers.quant;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.WeightLoadException;
import dev.tornadonn.core.io.KeyHints;
import dev.tornadonn.core.io.TensorSource;
import dev.tornadonn.core.weights.Int8InputQuantization;
import dev.tornadonn.core.weights.Int8Matrix;
import dev.tornadonn.core.weights.Int8WeightScale;
import dev.tornadonn.layers.Keys;
import dev.tornadonn.layers.LinearWeights;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Reads a compressed-tensors int8 W8A8 {@code Linear} strictly. The codes stay as the checkpoint
 * holds them, a view until a backend prepares them.
 */
final class Int8Weights {
    private Int8Weights() {}

    /** Scales as the tools write them: F32, or the model's BF16 or F16 (llm-compressor's default). */
    private static final Set<DType> SCALE_DTYPES = Set.of(DType.F32, DType.BF16, DType.F16);
    /** compressed-tensors writes zero points as I8; vLLM's parameter for them is I32. */
    private static final Set<DType> ZERO_POINT_DTYPES = Set.of(DType.I8, DType.I32);

    static LinearWeights read(Int8LinearConfig config, TensorSource source) {
        Set<String> names = source.names();
        Int8Scheme scheme = config.scheme();
        List<String> problems = new ArrayList<>();
        List<String> expected = new ArrayList<>(List.of(config.weightKey(), config.weightScaleKey()));
        if (scheme.isStatic()) {
            expected.add(config.inputScaleKey());
        }
        if (config.hasBias()) {
            expected.add(config.biasKey());
        }
        // Zero points that may be absent: symmetric ones must then be 0, and an asymmetric static
        // one written by a tool that drops all-zero zero points is 0.
        List<String> optional = new ArrayList<>(List.of(config.weightZeroPointKey()));
        if (scheme.isStatic()) {
            optional.add(config.inputZeroPointKey());
        }
        Set<String> used = new LinkedHashSet<>();
        for (String key : expected) {
            if (names.contains(key)) {
                used.add(key);
            } else {
                problems.add("missing key '" + key + "'" + KeyHints.didYouMean(key,
                        names.stream().filter(n -> !expected.contains(n)).toList()));
            }
        }
        for (String key : optional) {
            if (names.contains(key)) {
                used.add(key);
            }
        }
        for (String n : names) {
            if (Keys.isUnder(n, config.name()) && !used.contains(n) && !expected.contains(n)) {
                String why = n.equals(config.inputScaleKey()) || n.equals(config.inputZeroPointKey())
                        ? " (inputs are quantised dynamically per token, so the layer reads no input scale or zero point)"
                        : n.equals(config.biasKey()) ? " (the config has no bias)" : "";
                problems.add("unexpected key '" + n + "'" + why);
            }
        }
        Tensor w = get(source, used, config.weightKey());
        Tensor ws = get(source, used, config.weightScaleKey());
        Tensor wz = get(source, used, config.weightZeroPointKey());
        Tensor is = get(source, used, config.inputScaleKey());
        Tensor iz = get(source, used, config.inputZeroPointKey());
        Tensor b = get(source, used, config.biasKey());
        problems.addAll(check(config, w, ws, wz, is, iz, b));
        if (!problems.isEmpty()) {
            throw new WeightLoadException(source.describe() + ": " + String.join("; ", problems)
                    + " (the layer expects: " + String.join(", ", expected) + ")");
        }
        return new LinearWeights(config.name(), matrix(config, w, ws, is, iz), b, used);
    }

    static LinearWeights of(Int8LinearConfig config, Tensor weight, Tensor weightScale, Tensor inputScale,
                            Tensor inputZeroPoint, Tensor bias) {
        List<String> problems = new ArrayList<>();
        boolean statik = config.scheme().isStatic();
        if (weight == null || weightScale == null) {
            problems.add("weight and weight scale are required");
        }
        if (statik != (inputScale != null)) {
            problems.add("input_scale must be " + (statik ? "given: input scales are static" : "null: input scales are dynamic"));
        }
        if (inputZeroPoint != null && (!statik || config.scheme().symmetricInput())) {
            problems.add("input_zero_point must be null: only static asymmetric inputs have one");
        }
        if (config.hasBias() != (bias != null)) {
            problems.add("config says hasBias=" + config.hasBias() + " but bias is " + (bias == null ? "absent" : "present"));
        }
        if (problems.isEmpty()) {
            problems.addAll(check(config, weight, weightScale, null, inputScale, inputZeroPoint, bias));
        }
        if (!problems.isEmpty()) {
            throw new WeightLoadException(String.join("; ", problems));
        }
        return new LinearWeights(config.name(), matrix(config, weight, weightScale, inputScale, inputZeroPoint), bias, Set.of());
    }

    private static Tensor get(TensorSource source, Set<String> used, String key) {
        return used.contains(key) ? source.get(key) : null;
    }

    /** Every dtype, shape and value problem of the tensors present (absent ones were reported already). */
    private static List<String> check(Int8LinearConfig c, Tensor w, Tensor ws, Tensor wz, Tensor is, Tensor iz, Tensor b) {
        List<String> p = new ArrayList<>();
        int n = c.outDim();
        int k = c.inDim();
        boolean channel = c.scheme().weightScale() == Int8Scheme.WeightScale.CHANNEL;
        if (w != null) {
            expect(p, c.weightKey(), w, Set.of(DType.I8), List.of(Shape.of(n, k)), null);
        }
        List<Shape> scaleShapes = channel ? List.of(Shape.of(n, 1), Shape.of(n)) : SCALAR;
        String scaleHint = channel ? " for CHANNEL scales (one per output channel)" : " for a TENSOR scale";
        if (ws != null && expect(p, c.weightScaleKey(), ws, SCALE_DTYPES, scaleShapes, scaleHint)) {
            finite(p, c.weightScaleKey(), ws, false);
        }
        if (wz != null && expect(p, c.weightZeroPointKey(), wz, ZERO_POINT_DTYPES, scaleShapes, scaleHint)) {
            zeros(p, c.weightZeroPointKey(), wz, "int8 weights are symmetric");
        }
        if (is != null && expect(p, c.inputScaleKey(), is, SCALE_DTYPES, SCALAR, " for a static input scale")) {
            finite(p, c.inputScaleKey(), is, true);
        }
        if (iz != null && expect(p, c.inputZeroPointKey(), iz, ZERO_POINT_DTYPES, SCALAR, " for a static input zero point")) {
            if (c.scheme().symmetricInput()) {
                zeros(p, c.inputZeroPointKey(), iz, "the config's inputs are symmetric");
            } else if (integer(iz, 0) < -128 || integer(iz, 0) > 127) {
                p.add("tensor '" + c.inputZeroPointKey() + "' is " + integer(iz, 0) + ", outside int8's [-128, 127]");
            }
        }
        if (b != null) {
            expect(p, c.biasKey(), b, Set.of(DType.BF16, DType.F16, DType.F32), List.of(Shape.of(n)), null);
        }
        return p;
    }

    /** A scalar as the tools write one: (), (1,) or (1, 1). */
    private static final List<Shape> SCALAR = List.of(Shape.of(), Shape.of(1), Shape.of(1, 1));

    /** Adds a problem and returns false unless t has one of the dtypes and one of the shapes. */
    private static boolean expect(List<String> p, String key, Tensor t, Set<DType> dtypes, List<Shape> shapes, String hint) {
        boolean ok = true;
        if (!dtypes.contains(t.dtype())) {
            p.add("tensor '" + key + "' has dtype " + t.dtype() + ", expected "
                    + (dtypes.size() == 1 ? dtypes.iterator().next() : "one of " + new java.util.TreeSet<>(dtypes)));
            ok = false;
        }
        if (!shapes.contains(t.shape())) {
            p.add("tensor '" + key + "' has shape " + t.shape() + ", expected " + shapes.get(0)
                    + (shapes.size() > 1 ? " (or " + String.join(" or ", shapes.subList(1, shapes.size()).stream()
                    .map(Shape::toString).toList()) + ")" : "") + (hint == null ? "" : hint));
            ok = false;
        }
        return ok;
    }

    private static void finite(List<String> p, String key, Tensor t, boolean positive) {
        for (long i = 0; i < t.numel(); i++) {
            float v = t.getFloat(i);
            if (!Float.isFinite(v) || v < 0 || (positive && v == 0)) {
                p.add("tensor '" + key + "' element " + i + " is " + v + ", expected a finite "
                        + (positive ? "positive" : "non-negative") + " scale");
                return;
            }
        }
    }

    private static void zeros(List<String> p, String key, Tensor t, String why) {
        for (long i = 0; i < t.numel(); i++) {
            if (integer(t, i) != 0) {
                p.add("tensor '" + key + "' element " + i + " is " + integer(t, i) + ", expected 0: " + why);
                return;
            }
        }
    }

    private static long integer(Tensor t, long i) {
        return t.dtype().getLong(t.data(), i);
    }

    private static Int8Matrix matrix(Int8LinearConfig c, Tensor w, Tensor ws, Tensor is, Tensor iz) {
        Int8Scheme s = c.scheme();
        float[] scales = ws.toFloatArray();
        Int8WeightScale weightScale = s.weightScale() == Int8Scheme.WeightScale.CHANNEL
                ? new Int8WeightScale.PerChannel(scales) : new Int8WeightScale.PerTensor(scales[0]);
        Int8InputQuantization input;
        if (s.isStatic()) {
            float scale = is.getFloat(0);
            input = s.symmetricInput() ? new Int8InputQuantization.Static(scale)
                    : new Int8InputQuantization.StaticAsymmetric(scale, iz == null ? 0 : (int) integer(iz, 0));
        } else {
            input = s.symmetricInput() ? new Int8InputQuantization.DynamicPerToken()
                    : new Int8InputQuantization.DynamicPerTokenAsymmetric();
        }
        return new Int8Matrix(c.outDim(), c.inDim(), w, weightScale, input);
    }
}

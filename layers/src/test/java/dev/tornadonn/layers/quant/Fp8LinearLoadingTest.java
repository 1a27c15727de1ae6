package dev.tornadonn.layers.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.WeightLoadException;
import dev.tornadonn.core.io.TensorSource;
import dev.tornadonn.core.numeric.Float8Format;
import dev.tornadonn.core.weights.Fp8InputQuantization;
import dev.tornadonn.core.weights.Fp8Matrix;
import dev.tornadonn.core.weights.Fp8WeightScale;
import dev.tornadonn.layers.LinearWeights;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Strict loading: each problem is a WeightLoadException naming the key and what was expected. */
class Fp8LinearLoadingTest {
    private static final int N = 5;
    private static final int K = 9;

    private static Map<String, Tensor> checkpoint(Shape scaleShape) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("p.weight", Tensor.allocate(DType.F8_E4M3FN, Shape.of(N, K)));
        m.put("p.weight_scale", Tensor.allocate(DType.F32, scaleShape).fill(1f));
        return m;
    }

    private static Fp8LinearConfig config(Float8InputScaleSpec in, Float8WeightScaleSpec w) {
        return Fp8LinearConfig.of(K, N, DType.F8_E4M3FN, Float8Config.of(in, w)).withName("p");
    }

    private static void fails(Map<String, Tensor> ckpt, Fp8LinearConfig cfg, String... fragments) {
        WeightLoadException e = assertThrows(WeightLoadException.class, () -> dev.tornadonn.layers.Linear.load(cfg, TensorSource.of(ckpt)));
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), () -> "'" + e.getMessage() + "' lacks '" + f + "'");
        }
    }

    @Test
    void missingAndUnexpectedKeys() {
        var dyn = config(Float8InputScaleSpec.dynamicPerToken(null), Float8WeightScaleSpec.rowwise());
        Map<String, Tensor> c = checkpoint(Shape.of(N, 1));
        c.remove("p.weight_scale");
        fails(c, dyn, "missing key 'p.weight_scale'");
        Map<String, Tensor> extra = checkpoint(Shape.of(N, 1));
        extra.put("p.input_scale", Tensor.of(DType.F32, Shape.of(), 1f));
        fails(extra, dyn, "unexpected key 'p.input_scale'", "dynamic");
        var stat = config(Float8InputScaleSpec.staticTensor(), Float8WeightScaleSpec.tensor());
        fails(checkpoint(Shape.of()), stat, "missing key 'p.input_scale'");
        Map<String, Tensor> both = checkpoint(Shape.of(N, 1));
        both.put("p.weight_scale_inv", Tensor.allocate(DType.F32, Shape.of(N, 1)));
        fails(both, dyn, "both 'p.weight_scale' and 'p.weight_scale_inv'");
        fails(checkpoint(Shape.of(N, 1)), dyn.withBias(true), "missing key 'p.bias'");
    }

    @Test
    void layoutsTheToolsWriteAreRead() {
        // compressed-tensors for an fp16 model: F16 weight and input scales, the input scale (1,).
        var stat = config(Float8InputScaleSpec.staticTensor(), Float8WeightScaleSpec.rowwise());
        Map<String, Tensor> f16 = checkpoint(Shape.of(N, 1));
        f16.put("p.weight_scale", Tensor.allocate(DType.F16, Shape.of(N, 1)).fill(0.375f));
        f16.put("p.input_scale", Tensor.of(DType.F16, Shape.of(1), 0.0625f));
        Fp8Matrix m = (Fp8Matrix) stat.read(TensorSource.of(f16)).weight();
        assertEquals(0.375f, ((Fp8WeightScale.PerRow) m.weightScale()).scales()[4]);
        assertEquals(0.0625f, ((Fp8InputQuantization.Static) m.input()).scale());

        // transformers' FineGrainedFP8, activation_scheme static: the input scale is 'activation_scale'.
        var tensor = config(Float8InputScaleSpec.staticTensor(), Float8WeightScaleSpec.tensor());
        Map<String, Tensor> fg = checkpoint(Shape.of());
        fg.put("p.activation_scale", Tensor.of(DType.F32, Shape.of(), 0.5f));
        LinearWeights read = tensor.read(TensorSource.of(fg));
        assertEquals(0.5f, ((Fp8InputQuantization.Static) ((Fp8Matrix) read.weight()).input()).scale());
        assertTrue(read.keys().contains("p.activation_scale"));
        fg.put("p.input_scale", Tensor.of(DType.F32, Shape.of(), 0.5f));
        fails(fg, tensor, "both 'p.input_scale' and 'p.activation_scale'");
        Map<String, Tensor> dynamicWithOne = checkpoint(Shape.of(N, 1));
        dynamicWithOne.put("p.activation_scale", Tensor.of(DType.F32, Shape.of(), 0.5f));
        fails(dynamicWithOne, config(Float8InputScaleSpec.dynamicPerToken(null), Float8WeightScaleSpec.rowwise()),
                "unexpected key 'p.activation_scale' (input scales are dynamic");

        // A per-tensor scale written (1, 1) is one scale, not a block: the config decides, never the shape.
        var autoFp8 = config(Float8InputScaleSpec.dynamicTensor(null), Float8WeightScaleSpec.tensor());
        Fp8Matrix t = (Fp8Matrix) autoFp8.read(TensorSource.of(checkpoint(Shape.of(1, 1)))).weight();
        assertInstanceOf(Fp8WeightScale.PerTensor.class, t.weightScale());
        assertInstanceOf(Fp8InputQuantization.DynamicPerTensor.class, t.input());
    }

    @Test
    void dynamicInputsAreE4m3fnWhateverTheWeights() {
        Map<String, Tensor> e5 = checkpoint(Shape.of(N, 1));
        e5.put("p.weight", Tensor.allocate(DType.F8_E5M2, Shape.of(N, K)));
        Float8Config dyn = Float8Config.of(Float8InputScaleSpec.dynamicPerToken(null), Float8WeightScaleSpec.rowwise());
        Fp8Matrix m = (Fp8Matrix) Fp8LinearConfig.of(K, N, DType.F8_E5M2, dyn).withName("p").read(TensorSource.of(e5)).weight();
        assertEquals(Float8Format.E5M2, m.format());
        assertEquals(Float8Format.E4M3FN, ((Fp8InputQuantization.Quantised) m.input()).format()); // vLLM and MAX quantise x to e4m3fn
        e5.put("p.input_scale", Tensor.of(DType.F32, Shape.of(), 1f));
        Float8Config stat = Float8Config.of(Float8InputScaleSpec.staticTensor(), Float8WeightScaleSpec.rowwise());
        Fp8Matrix s = (Fp8Matrix) Fp8LinearConfig.of(K, N, DType.F8_E5M2, stat).withName("p").read(TensorSource.of(e5)).weight();
        assertEquals(Float8Format.E5M2, ((Fp8InputQuantization.Quantised) s.input()).format()); // a static scale was calibrated for the checkpoint's format
    }

    @Test
    void weightOnlyReadsNoInputScaleAndLeavesXUnquantised() {
        var w8a16 = config(Float8InputScaleSpec.weightOnly(), Float8WeightScaleSpec.rowwise());
        Fp8Matrix m = (Fp8Matrix) w8a16.read(TensorSource.of(checkpoint(Shape.of(N, 1)))).weight();
        assertInstanceOf(Fp8InputQuantization.WeightOnly.class, m.input());
        Map<String, Tensor> withInput = checkpoint(Shape.of(N, 1));
        withInput.put("p.input_scale", Tensor.of(DType.F32, Shape.of(), 1f));
        fails(withInput, w8a16, "unexpected key 'p.input_scale' (the config quantises weights only");
    }

    @Test
    void wrongShapesAndDtypes() {
        var row = config(Float8InputScaleSpec.dynamicPerToken(null), Float8WeightScaleSpec.rowwise());
        fails(checkpoint(Shape.of(N)), row, "'p.weight_scale' has shape (5,), expected (5, 1)", "ROWWISE");
        var block = config(Float8InputScaleSpec.dynamicBlock(4, null), Float8WeightScaleSpec.block(2, 4));
        fails(checkpoint(Shape.of(3, 2)), block, "'p.weight_scale' has shape (3, 2), expected (3, 3)", "ceil(9/4)");
        Map<String, Tensor> ints = checkpoint(Shape.of(N, 1));
        ints.put("p.weight_scale", Tensor.allocate(DType.I32, Shape.of(N, 1)));
        fails(ints, row, "'p.weight_scale' has dtype I32");
        Map<String, Tensor> e5 = checkpoint(Shape.of(N, 1));
        e5.put("p.weight", Tensor.allocate(DType.F8_E5M2, Shape.of(N, K)));
        fails(e5, row, "'p.weight' has dtype F8_E5M2, expected F8_E4M3FN");
        Map<String, Tensor> nan = checkpoint(Shape.of(N, 1));
        nan.get("p.weight_scale").setFloat(2, Float.NaN);
        fails(nan, row, "'p.weight_scale' element 2 is NaN");
        var stat = config(Float8InputScaleSpec.staticTensor(), Float8WeightScaleSpec.tensor());
        Map<String, Tensor> zero = checkpoint(Shape.of(1));
        zero.put("p.input_scale", Tensor.of(DType.F32, Shape.of(), 0f));
        fails(zero, stat, "'p.input_scale' element 0 is 0.0");
        Map<String, Tensor> badBias = checkpoint(Shape.of(N, 1));
        badBias.put("p.bias", Tensor.allocate(DType.F32, Shape.of(N + 1)));
        fails(badBias, row.withBias(true), "'p.bias' has shape (6,), expected (5,)");
    }
}

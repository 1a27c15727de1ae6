package dev.tornadonn.layers.quant;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.WeightLoadException;
import dev.tornadonn.core.io.TensorSource;
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
    void wrongShapesAndDtypes() {
        var row = config(Float8InputScaleSpec.dynamicPerToken(null), Float8WeightScaleSpec.rowwise());
        fails(checkpoint(Shape.of(N)), row, "'p.weight_scale' has shape (5,), expected (5, 1)", "ROWWISE");
        var block = config(Float8InputScaleSpec.dynamicBlock(4, null), Float8WeightScaleSpec.block(2, 4));
        fails(checkpoint(Shape.of(3, 2)), block, "'p.weight_scale' has shape (3, 2), expected (3, 3)", "ceil(9/4)");
        Map<String, Tensor> f16 = checkpoint(Shape.of(N, 1));
        f16.put("p.weight_scale", Tensor.allocate(DType.F16, Shape.of(N, 1)));
        fails(f16, row, "'p.weight_scale' has dtype F16");
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

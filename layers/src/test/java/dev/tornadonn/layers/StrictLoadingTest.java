package dev.tornadonn.layers;

import dev.tornadonn.core.ConfigException;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.TornadoNnException;
import dev.tornadonn.core.WeightLoadException;
import dev.tornadonn.core.io.TensorSource;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Loading is strict and all-or-nothing. This module has no backend on its test class path, so a
 * load that gets past validation stops at the backend lookup: that is how these tests tell
 * "rejected the checkpoint" from "accepted it".
 */
class StrictLoadingTest {
    private static final LinearConfig LINEAR = LinearConfig.builder(7, 5).dtype(DType.BF16).hasBias(true)
            .name("model.proj").build();

    private static Tensor t(DType dtype, int... dims) {
        return Tensor.allocate(dtype, Shape.of(dims));
    }

    private static Map<String, Tensor> goodLinear() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("model.proj.weight", t(DType.BF16, 5, 7));
        m.put("model.proj.bias", t(DType.BF16, 5));
        return m;
    }

    private static String loadError(Map<String, Tensor> checkpoint) {
        return assertThrows(WeightLoadException.class, () -> Linear.load(LINEAR, TensorSource.of(checkpoint))).getMessage();
    }

    @Test
    void aMatchingCheckpointGetsPastValidation() {
        TornadoNnException e = assertThrows(TornadoNnException.class, () -> Linear.load(LINEAR, TensorSource.of(goodLinear())));
        assertTrue(e.getMessage().contains("no backend for cpu:0"), e.getMessage());
    }

    @Test
    void keysOutsideThePrefixAreNotTheLayersConcern() {
        Map<String, Tensor> m = goodLinear();
        m.put("model.other.weight", t(DType.F32, 3));
        m.put("model.projection.weight", t(DType.F32, 3)); // shares the characters, not the prefix
        TornadoNnException e = assertThrows(TornadoNnException.class, () -> Linear.load(LINEAR, TensorSource.of(m)));
        assertTrue(e.getMessage().contains("no backend"), e.getMessage());
    }

    @Test
    void aMissingKeyIsNamedWithAHint() {
        Map<String, Tensor> m = goodLinear();
        m.put("model.proj.weigth", m.remove("model.proj.weight"));
        String msg = loadError(m);
        assertTrue(msg.contains("missing key 'model.proj.weight' (expected BF16 (5, 7))"), msg);
        assertTrue(msg.contains("did you mean 'model.proj.weigth'"), msg);
    }

    @Test
    void anUnexpectedKeyUnderThePrefixIsAnError() {
        Map<String, Tensor> m = goodLinear();
        m.put("model.proj.weight_scale", t(DType.F32));
        String msg = loadError(m);
        assertTrue(msg.contains("unexpected key 'model.proj.weight_scale' under prefix 'model.proj'"), msg);
    }

    @Test
    void wrongShapesAndDtypesAreNamedTogether() {
        Map<String, Tensor> m = goodLinear();
        m.put("model.proj.weight", t(DType.BF16, 7, 5));
        m.put("model.proj.bias", t(DType.F32, 5));
        String msg = loadError(m);
        assertTrue(msg.contains("tensor 'model.proj.weight' has shape (7, 5), expected (5, 7)"), msg);
        assertTrue(msg.contains("tensor 'model.proj.bias' has dtype F32, expected BF16"), msg);
    }

    @Test
    void aBiasTheConfigDoesNotDeclareIsUnexpected() {
        LinearConfig noBias = LinearConfig.builder(7, 5).dtype(DType.BF16).name("model.proj").build();
        String msg = assertThrows(WeightLoadException.class, () -> Linear.load(noBias, TensorSource.of(goodLinear()))).getMessage();
        assertTrue(msg.contains("unexpected key 'model.proj.bias'"), msg);
    }

    @Test
    void withoutAPrefixEveryKeyBelongsToTheLayer() {
        LinearConfig bare = LinearConfig.builder(7, 5).build();
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("weight", t(DType.F32, 5, 7));
        m.put("something.else", t(DType.F32, 1));
        String msg = assertThrows(WeightLoadException.class, () -> Linear.load(bare, TensorSource.of(m))).getMessage();
        assertTrue(msg.contains("unexpected key 'something.else'"), msg);
    }

    @Test
    void mlpNeedsEveryProjectionAndEveryBias() {
        MlpConfig config = MlpConfig.builder(8, 12).hasBias(true).name("mlp").build();
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("mlp.gate_proj.weight", t(DType.F32, 12, 8));
        m.put("mlp.gate_proj.bias", t(DType.F32, 12));
        m.put("mlp.up_proj.weight", t(DType.F32, 12, 8));
        m.put("mlp.down_proj.weight", t(DType.F32, 8, 12));
        m.put("mlp.down_proj.bias", t(DType.F32, 8));
        String msg = assertThrows(WeightLoadException.class, () -> MLP.load(config, TensorSource.of(m))).getMessage();
        assertTrue(msg.contains("missing key 'mlp.up_proj.bias' (expected F32 (12,))"), msg);
        assertEquals(List.of("mlp.gate_proj.weight", "mlp.gate_proj.bias", "mlp.up_proj.weight", "mlp.up_proj.bias",
                "mlp.down_proj.weight", "mlp.down_proj.bias"), config.weights().stream().map(w -> w.name()).toList());
    }

    @Test
    void configsRejectWhatCannotWork() {
        assertThrows(ConfigException.class, () -> LinearConfig.builder(-1, 5).build());
        assertThrows(ConfigException.class, () -> LinearConfig.builder(7, 5).dtype(DType.I32).build());
        assertThrows(ConfigException.class, () -> LinearConfig.builder(7, 5).clipWeight(-1).build());
        assertThrows(ConfigException.class, () -> LinearConfig.builder(7, 5).clipWeight(Double.NaN).build());
        String msg = assertThrows(ConfigException.class, () -> MlpConfig.builder(8, 12).activation("swiglu")).getMessage();
        assertTrue(msg.contains("silu, gelu, gelu_tanh, relu, tanh, sigmoid, quick_gelu"), msg);
    }

    @Test
    void keysFollowMaxNaming() {
        assertEquals("weight", LinearConfig.builder(1, 1).build().weightKey());
        assertEquals("a.b.bias", LinearConfig.builder(1, 1).name("a.b").build().biasKey());
        assertEquals("gate_proj.weight", MlpConfig.builder(1, 1).build().gateProj().weightKey());
        assertEquals(DeviceRef.cpu(2), LinearConfig.builder(1, 1).device(DeviceRef.cpu(2)).build().device());
    }
}

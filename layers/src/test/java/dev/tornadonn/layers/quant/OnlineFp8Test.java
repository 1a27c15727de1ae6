package dev.tornadonn.layers.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.DType;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.WeightLoadException;
import dev.tornadonn.core.numeric.Float8Format;
import dev.tornadonn.core.weights.DenseMatrix;
import dev.tornadonn.core.weights.Fp8InputQuantization;
import dev.tornadonn.core.weights.Fp8Matrix;
import dev.tornadonn.core.weights.Fp8WeightScale;
import dev.tornadonn.layers.LinearWeights;
import dev.tornadonn.layers.MlpWeights;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Quantising dense weights to fp8 at load as vLLM's scaled_fp8_quant does. */
class OnlineFp8Test {

    @Test
    void oneScaleOfAmaxOver448AndCodesRoundedToNearestEven() {
        // amax 28 = 448·2^-4 gives scale exactly 2^-4; 1.0625 becomes 17, a tie between e4m3's 16 and 18
        // (steps of 2 there) that rounds to even, 16; -28 becomes -448.
        Tensor w = Tensor.of(DType.BF16, Shape.of(2, 3), 28f, 1.0625f, 0f, -28f, 0.5f, -0.0078125f);
        Fp8Matrix m = OnlineFp8.perToken().quantise(List.of(DenseMatrix.of(w))).getFirst();
        assertEquals(new Fp8WeightScale.PerTensor(0x1p-4f), m.weightScale());
        float[] want = {448f, 16f, 0f, -448f, 8f, -0.125f};
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], Float8Format.E4M3FN.toFloat(m.code(i / 3, i % 3)), "code " + i);
        }
        assertInstanceOf(Fp8InputQuantization.DynamicPerToken.class, m.input());
        assertInstanceOf(Fp8InputQuantization.DynamicPerTensor.class,
                OnlineFp8.perTensor().quantise(List.of(DenseMatrix.of(w))).getFirst().input());
    }

    @Test
    void gateAndUpShareOneScaleAsVllmsMergedGateUpProj() {
        Tensor gate = Tensor.of(DType.F32, Shape.of(2, 2), 1f, -2f, 0.5f, 0f);
        Tensor up = Tensor.of(DType.F32, Shape.of(2, 2), 8f, 1f, 1f, 1f);
        Tensor down = Tensor.of(DType.F32, Shape.of(2, 2), 0.25f, 0f, 0f, 0f);
        MlpWeights mlp = OnlineFp8.perToken().quantise(new MlpWeights("m", LinearWeights.dense("g", gate, null),
                LinearWeights.dense("u", up, null), LinearWeights.dense("d", down, null)));
        Fp8WeightScale shared = new Fp8WeightScale.PerTensor(8f / 448f);
        assertEquals(shared, ((Fp8Matrix) mlp.gate().weight()).weightScale());
        assertEquals(shared, ((Fp8Matrix) mlp.up().weight()).weightScale());
        assertEquals(new Fp8WeightScale.PerTensor(0.25f / 448f), ((Fp8Matrix) mlp.down().weight()).weightScale());
    }

    @Test
    void whatCannotBeQuantisedIsRefused() {
        Tensor nan = Tensor.of(DType.F32, Shape.of(1, 2), 1f, Float.NaN);
        WeightLoadException e = assertThrows(WeightLoadException.class,
                () -> OnlineFp8.perToken().quantise(List.of(DenseMatrix.of(nan))));
        assertTrue(e.getMessage().contains("NaN at element 1"), e.getMessage());
        ConfigException clip = assertThrows(ConfigException.class, () -> OnlineFp8.perToken().quantise(
                new LinearWeights("p", new DenseMatrix(Tensor.of(DType.F32, Shape.of(1, 1), 1f), 0.5), null, java.util.Set.of())));
        assertTrue(clip.getMessage().contains("clip_weight"), clip.getMessage());
        assertThrows(ConfigException.class, () -> OnlineFp8.parse("int8"));
        assertEquals(OnlineFp8.perTensor(), OnlineFp8.parse("fp8-per-tensor"));
        // an all-zero weight: scale 0 and zero codes, never NaN
        Fp8Matrix zero = OnlineFp8.perToken().quantise(List.of(DenseMatrix.of(Tensor.allocate(DType.F16, Shape.of(2, 2))))).getFirst();
        assertEquals(new Fp8WeightScale.PerTensor(0f), zero.weightScale());
        assertEquals(0, zero.code(1, 1));
    }
}

package dev.tornadonn.layers.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.TornadoNnException;
import dev.tornadonn.core.io.QuantizationConfig;
import dev.tornadonn.core.io.TensorSource;
import dev.tornadonn.core.weights.Fp8InputQuantization;
import dev.tornadonn.core.weights.Fp8Matrix;
import dev.tornadonn.core.weights.WeightKind;
import dev.tornadonn.layers.LinearSpec;
import dev.tornadonn.layers.quant.AwqLinearConfig;
import dev.tornadonn.layers.quant.Fp8LinearConfig;
import dev.tornadonn.layers.quant.GptqLinearConfig;
import dev.tornadonn.layers.quant.OnlineFp8;
import dev.tornadonn.layers.quant.OnlineFp8LinearConfig;
import dev.tornadonn.layers.quant.PackQuantizedLinearConfig;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** How the tensors under a prefix and the quantization config choose the weight-only formats. */
class CheckpointLayersFormatsTest {
    private static final String AWQ = "{\"quant_method\":\"awq\",\"bits\":4,\"group_size\":32,\"zero_point\":true,\"version\":\"gemm\"}";
    private static final String CT = "{\"quant_method\":\"compressed-tensors\",\"format\":\"pack-quantized\",\"config_groups\":"
            + "{\"group_0\":{\"weights\":{\"num_bits\":4,\"type\":\"int\",\"symmetric\":true,\"strategy\":\"group\",\"group_size\":32}}}}";

    private static CheckpointLayers layers(Map<String, Tensor> t, String config) {
        return new CheckpointLayers(TensorSource.of(t), Optional.ofNullable(config).map(QuantizationConfig::parse),
                Optional.empty(), DeviceRef.cpu(0), 0, Optional.empty());
    }

    private static void fails(Executable e, String... fragments) {
        TornadoNnException ex = assertThrows(TornadoNnException.class, e);
        for (String f : fragments) {
            assertTrue(ex.getMessage().contains(f), () -> "'" + ex.getMessage() + "' lacks '" + f + "'");
        }
    }

    private static Map<String, Tensor> awq() {
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("p.qweight", Tensor.ofInts(Shape.of(64, 2), new int[128]));
        t.put("p.qzeros", Tensor.ofInts(Shape.of(2, 2), new int[4]));
        t.put("p.scales", Tensor.allocate(DType.F16, Shape.of(2, 16)));
        return t;
    }

    private static Map<String, Tensor> packed() {
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("p.weight_packed", Tensor.ofInts(Shape.of(5, 8), new int[40]));
        t.put("p.weight_scale", Tensor.allocate(DType.F16, Shape.of(5, 2)));
        t.put("p.weight_shape", Tensor.ofInts(Shape.of(2), 5, 64));
        t.put("p.bias", Tensor.allocate(DType.F16, Shape.of(5)));
        return t;
    }

    @Test
    void qweightIsAwqWhenTheConfigSaysAwq() {
        LinearSpec spec = layers(awq(), AWQ).linearSpec("p");
        AwqLinearConfig a = assertInstanceOf(AwqLinearConfig.class, spec);
        assertEquals(64, a.inDim());
        assertEquals(16, a.outDim());
        assertEquals(DType.F16, a.scaleDType());
        assertEquals(WeightKind.GROUP_QUANTIZED, CheckpointLayers.kind(spec));
        assertEquals(2, ((dev.tornadonn.core.weights.GroupQuantizedMatrix) layers(awq(), AWQ).linear("p").weight()).groups());
        fails(() -> layers(awq(), null).linearSpec("p"), "'p.qweight' is GPTQ- or AWQ-packed", "no quantization_config");
        fails(() -> layers(awq(), CT).linearSpec("p"), "quant_method is 'compressed-tensors' (expected gptq or awq)");
        assertInstanceOf(GptqLinearConfig.class, layers(gptq(), "{\"quant_method\":\"gptq\",\"bits\":4,\"group_size\":32}").linearSpec("p"));
    }

    private static Map<String, Tensor> gptq() {
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("p.qweight", Tensor.ofInts(Shape.of(8, 16), new int[128]));
        t.put("p.qzeros", Tensor.ofInts(Shape.of(2, 2), new int[4]));
        t.put("p.scales", Tensor.allocate(DType.F16, Shape.of(2, 16)));
        return t;
    }

    @Test
    void weightPackedIsCompressedTensorsPackQuantized() {
        LinearSpec spec = layers(packed(), CT).linearSpec("p");
        PackQuantizedLinearConfig p = assertInstanceOf(PackQuantizedLinearConfig.class, spec);
        assertEquals(64, p.inDim());
        assertEquals(5, p.outDim());
        assertTrue(p.hasBias());
        assertEquals(WeightKind.GROUP_QUANTIZED, CheckpointLayers.kind(spec));
        Map<String, Tensor> noShape = packed();
        noShape.remove("p.weight_shape");
        fails(() -> layers(noShape, CT).linearSpec("p"), "no 'p.weight_shape' beside it");
        Map<String, Tensor> badShape = packed();
        badShape.put("p.weight_shape", Tensor.ofInts(Shape.of(2), 5, -64));
        fails(() -> layers(badShape, CT).linearSpec("p"), "holds [5, -64]");
        fails(() -> layers(packed(), AWQ).linearSpec("p"), "quant_method is 'awq' (expected compressed-tensors)");
    }

    @Test
    void anF8WeightWithoutInputActivationsIsWeightOnlyFp8() {
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("p.weight", Tensor.allocate(DType.F8_E4M3FN, Shape.of(3, 4)));
        t.put("p.weight_scale", Tensor.of(DType.BF16, Shape.of(3, 1), 1f, 1f, 1f));
        String w8a16 = "{\"quant_method\":\"compressed-tensors\",\"format\":\"float-quantized\",\"config_groups\":{\"group_0\":"
                + "{\"weights\":{\"num_bits\":8,\"type\":\"float\",\"strategy\":\"channel\"},\"input_activations\":null}}}";
        assertInstanceOf(Fp8LinearConfig.class, layers(t, w8a16).linearSpec("p"));
        assertInstanceOf(Fp8InputQuantization.WeightOnly.class, ((Fp8Matrix) layers(t, w8a16).linear("p").weight()).input());
    }

    @Test
    void onlineFp8QuantisesDenseWeightsAndRefusesQuantisedOnes() {
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("p.weight", Tensor.of(DType.BF16, Shape.of(2, 2), 1f, 2f, 3f, 4f));
        CheckpointLayers online = layers(t, null).withOnlineQuantization(OnlineFp8.perToken());
        LinearSpec spec = online.linearSpec("p");
        assertInstanceOf(OnlineFp8LinearConfig.class, spec);
        assertEquals(WeightKind.FP8, CheckpointLayers.kind(spec));
        assertEquals(DType.BF16, spec.outputDType());
        assertEquals(4f / 448f, ((dev.tornadonn.core.weights.Fp8WeightScale.PerTensor) ((Fp8Matrix) online.linear("p").weight())
                .weightScale()).scale());
        fails(() -> layers(awq(), AWQ).withOnlineQuantization(OnlineFp8.perToken()).linearSpec("p"),
                "takes unquantised weights", "'p' holds group-quantised");
        fails(() -> layers(t, null).withClip(0.5).withOnlineQuantization(OnlineFp8.perToken()).linearSpec("p"), "clip_weight");
    }
}

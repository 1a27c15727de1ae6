package dev.tornadonn.layers.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.TornadoNnException;
import dev.tornadonn.core.WeightLoadException;
import dev.tornadonn.core.io.QuantizationConfig;
import dev.tornadonn.core.io.TensorSource;
import dev.tornadonn.core.weights.GroupQuantizedMatrix;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** AWQ's GEMM layout read onto the group-quantised matrix: AutoAWQ's packing order, zeros as stored, strict tensors. */
class AwqLoadingTest {
    private static final int K = 16;
    private static final int N = 16;

    private static void fails(Class<? extends TornadoNnException> type, Executable e, String... fragments) {
        TornadoNnException ex = assertThrows(type, e);
        for (String f : fragments) {
            assertTrue(ex.getMessage().contains(f), () -> "'" + ex.getMessage() + "' lacks '" + f + "'");
        }
    }

    private static AwqLinearConfig config(int group) {
        return new AwqLinearConfig(K, N, new AwqConfig(group), DType.F16, DeviceRef.cpu(0), false, "p");
    }

    /** Every qweight word 0x75316420 and qzeros word 0x11110000, scale 1 + g + col/16. */
    private static Map<String, Tensor> checkpoint(int groups) {
        int[] qweight = new int[K * N / 8];
        java.util.Arrays.fill(qweight, 0x75316420);
        int[] qzeros = new int[groups * N / 8];
        java.util.Arrays.fill(qzeros, 0x11110000);
        float[] scales = new float[groups * N];
        for (int g = 0; g < groups; g++) {
            for (int c = 0; c < N; c++) {
                scales[g * N + c] = 1 + g + c / 16f;
            }
        }
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("p.qweight", Tensor.ofInts(Shape.of(K, N / 8), qweight));
        t.put("p.qzeros", Tensor.ofInts(Shape.of(groups, N / 8), qzeros));
        t.put("p.scales", Tensor.of(DType.F16, Shape.of(groups, N), scales));
        return t;
    }

    @Test
    void autoAwqsOrderMapPutsOutputFeatureEightJPlusOrderIAtNibbleI() {
        // AutoAWQ packs output features 8j + [0, 2, 4, 6, 1, 3, 5, 7][i] at bits 4i, so codes 0..7 in
        // feature order pack to 0x75316420, and 0x11110000 gives features 0, 2, 4, 6 (nibbles 0..3)
        // zero 0 and features 1, 3, 5, 7 (nibbles 4..7) zero 1.
        GroupQuantizedMatrix m = (GroupQuantizedMatrix) config(8).read(TensorSource.of(checkpoint(2))).weight();
        for (int n = 0; n < N; n++) {
            int zero = n % 2;
            for (int k = 0; k < K; k++) {
                assertEquals(n % 8, m.code(n, k), "code of output " + n + ", input " + k);
                float scale = 1 + k / 8 + n / 16f;
                assertEquals(scale * (n % 8 - zero), m.weight(n, k), "weight (" + n + ", " + k + "): (q - z)·s, no +1");
            }
        }
    }

    @Test
    void configIsReadAsTransformersAndAutoAwqWriteIt() {
        assertEquals(new AwqConfig(128), AwqConfig.fromHuggingFace(QuantizationConfig.parse(
                "{\"quant_method\":\"awq\",\"bits\":4,\"group_size\":128,\"zero_point\":true,\"version\":\"gemm\"}")));
        assertEquals(new AwqConfig(64), AwqConfig.fromHuggingFace(QuantizationConfig.parse(
                "{\"quant_method\":\"awq\",\"group_size\":64,\"version\":\"GEMM\"}")));
        fails(ConfigException.class, () -> AwqConfig.fromHuggingFace(QuantizationConfig.parse(
                "{\"quant_method\":\"awq\",\"bits\":4,\"group_size\":128,\"version\":\"gemv\"}")), "version is 'gemv'", "GEMM");
        fails(ConfigException.class, () -> AwqConfig.fromHuggingFace(QuantizationConfig.parse(
                "{\"quant_method\":\"awq\",\"bits\":4,\"version\":\"gemv_fast\"}")), "'gemv_fast'");
        fails(ConfigException.class, () -> AwqConfig.fromHuggingFace(QuantizationConfig.parse(
                "{\"quant_method\":\"awq\",\"bits\":8,\"group_size\":128}")), "bits is 8");
        fails(ConfigException.class, () -> AwqConfig.fromHuggingFace(QuantizationConfig.parse(
                "{\"quant_method\":\"awq\",\"zero_point\":false}")), "zero_point is false");
        fails(ConfigException.class, () -> AwqConfig.fromHuggingFace(QuantizationConfig.parse(
                "{\"quant_method\":\"gptq\"}")), "expected 'awq'");
    }

    @Test
    void shapesThatAwqCannotPackAreRefused() {
        fails(ConfigException.class, () -> new AwqLinearConfig(16, 12, new AwqConfig(8), DType.F16, DeviceRef.cpu(0), false, ""),
                "out_dim 12 is not a multiple of 8");
        fails(ConfigException.class, () -> new AwqLinearConfig(24, 16, new AwqConfig(16), DType.F16, DeviceRef.cpu(0), false, ""),
                "groups must divide in_dim", "24 channels in groups of 16");
    }

    @Test
    void badTensorsAreNamedAndNothingIsRead() {
        Map<String, Tensor> zeros = checkpoint(2);
        zeros.put("p.qzeros", Tensor.ofInts(Shape.of(2, N), new int[2 * N]));
        fails(WeightLoadException.class, () -> config(8).read(TensorSource.of(zeros)), "'p.qzeros' has shape (2, 16), expected (2, 2)");
        Map<String, Tensor> scales = checkpoint(2);
        scales.put("p.scales", Tensor.allocate(DType.BF16, Shape.of(2, N)));
        fails(WeightLoadException.class, () -> config(8).read(TensorSource.of(scales)), "'p.scales' has dtype BF16, expected F16");
        Map<String, Tensor> gIdx = checkpoint(2);
        gIdx.put("p.g_idx", Tensor.ofInts(Shape.of(K), new int[K]));
        fails(WeightLoadException.class, () -> config(8).read(TensorSource.of(gIdx)), "unexpected key 'p.g_idx'");
        Map<String, Tensor> missing = checkpoint(2);
        missing.remove("p.qzeros");
        fails(WeightLoadException.class, () -> config(8).read(TensorSource.of(missing)), "missing key 'p.qzeros'");
    }
}

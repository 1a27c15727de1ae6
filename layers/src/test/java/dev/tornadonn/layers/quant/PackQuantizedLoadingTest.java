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
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** compressed-tensors' pack-quantized layout read onto the group-quantised matrix, bit for bit as its packer writes it. */
class PackQuantizedLoadingTest {
    private static void fails(Class<? extends TornadoNnException> type, Executable e, String... fragments) {
        TornadoNnException ex = assertThrows(type, e);
        for (String f : fragments) {
            assertTrue(ex.getMessage().contains(f), () -> "'" + ex.getMessage() + "' lacks '" + f + "'");
        }
    }

    private static Tensor longs(long... v) {
        Tensor t = Tensor.allocate(DType.I64, Shape.of(v.length));
        for (int i = 0; i < v.length; i++) {
            t.data().set(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 8L * i, v[i]);
        }
        return t;
    }

    @Test
    void theDocstringsExamplePacksSignedOneAndTwoTo33409() {
        // pack_to_int32's own example: 8-bit [1, 2] -> offset [129, 130] -> padded [129, 130, 0, 0] -> 33409.
        PackQuantizedLinearConfig c = new PackQuantizedLinearConfig(2, 1, new PackQuantizedConfig(8, -1, true), DType.F32,
                DeviceRef.cpu(0), false, "p");
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("p.weight_packed", Tensor.ofInts(Shape.of(1, 1), 33409));
        t.put("p.weight_scale", Tensor.of(DType.F32, Shape.of(1, 1), 0.5f));
        t.put("p.weight_shape", longs(1, 2));
        GroupQuantizedMatrix m = (GroupQuantizedMatrix) c.read(TensorSource.of(t)).weight();
        assertEquals(0.5f, m.weight(0, 0));
        assertEquals(1f, m.weight(0, 1));
    }

    @Test
    void asymmetricZeroPointsArePackedAlongTheOutputs() {
        // 4-bit, 9 outputs (two zero-point words per group, the second padded), 8 inputs, groups of 4.
        int n = 9;
        int k = 8;
        PackQuantizedLinearConfig c = new PackQuantizedLinearConfig(k, n, new PackQuantizedConfig(4, 4, false), DType.F32,
                DeviceRef.cpu(0), false, "p");
        int[] packed = new int[n];
        int[] q = {-8, -1, 0, 7, 3, -3, 5, -5};
        for (int r = 0; r < n; r++) {
            for (int i = 0; i < k; i++) {
                packed[r] |= (q[i] + 8) << (4 * i);
            }
        }
        int[] zp = new int[2 * 2]; // (ceil(9/8), 2 groups)
        for (int r = 0; r < n; r++) {
            for (int g = 0; g < 2; g++) {
                zp[(r / 8) * 2 + g] |= ((r - 4 + g) + 8) << (4 * (r % 8)); // zero r - 4 + g, signed
            }
        }
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("p.weight_packed", Tensor.ofInts(Shape.of(n, 1), packed));
        t.put("p.weight_scale", Tensor.of(DType.F32, Shape.of(n, 2), new float[2 * n]).fill(2f));
        t.put("p.weight_shape", Tensor.ofInts(Shape.of(2), n, k));
        t.put("p.weight_zero_point", Tensor.ofInts(Shape.of(2, 2), zp));
        GroupQuantizedMatrix m = (GroupQuantizedMatrix) c.read(TensorSource.of(t)).weight();
        for (int r = 0; r < n; r++) {
            for (int i = 0; i < k; i++) {
                assertEquals(2f * (q[i] - (r - 4 + i / 4)), m.weight(r, i), "weight (" + r + ", " + i + ")");
            }
        }
    }

    @Test
    void configIsReadAsLlmCompressorWritesIt() {
        String w4a16 = "{\"quant_method\":\"compressed-tensors\",\"format\":\"pack-quantized\",\"config_groups\":{\"group_0\":"
                + "{\"targets\":[\"Linear\"],\"weights\":{\"num_bits\":4,\"type\":\"int\",\"symmetric\":true,\"strategy\":\"group\","
                + "\"group_size\":128,\"dynamic\":false},\"input_activations\":null}}}";
        assertEquals(new PackQuantizedConfig(4, 128, true), PackQuantizedConfig.fromHuggingFace(QuantizationConfig.parse(w4a16)));
        assertEquals(new PackQuantizedConfig(8, -1, false), PackQuantizedConfig.fromHuggingFace(QuantizationConfig.parse(
                w4a16.replace("\"num_bits\":4", "\"num_bits\":8").replace("\"symmetric\":true", "\"symmetric\":false")
                        .replace("\"strategy\":\"group\"", "\"strategy\":\"channel\""))));
        fails(ConfigException.class, () -> PackQuantizedConfig.fromHuggingFace(QuantizationConfig.parse(
                w4a16.replace("\"strategy\":\"group\"", "\"strategy\":\"tensor\""))), "strategy 'tensor'");
        fails(ConfigException.class, () -> PackQuantizedConfig.fromHuggingFace(QuantizationConfig.parse(
                w4a16.replace("\"format\":\"pack-quantized\"", "\"format\":\"naive-quantized\""))), "format is 'naive-quantized'");
        fails(ConfigException.class, () -> PackQuantizedConfig.fromHuggingFace(QuantizationConfig.parse(
                w4a16.replace("\"input_activations\":null", "\"input_activations\":{\"num_bits\":8}"))), "weight-only");
        fails(ConfigException.class, () -> PackQuantizedConfig.fromHuggingFace(QuantizationConfig.parse(
                w4a16.replace("\"num_bits\":4", "\"num_bits\":2"))), "4 or 8 bits", "got 2");
        fails(ConfigException.class, () -> PackQuantizedConfig.fromHuggingFace(QuantizationConfig.parse(
                w4a16.replace("\"type\":\"int\"", "\"type\":\"float\""))), "type must be \"int\"");
    }

    @Test
    void badTensorsAreNamed() {
        PackQuantizedLinearConfig c = new PackQuantizedLinearConfig(16, 4, new PackQuantizedConfig(4, 8, true), DType.BF16,
                DeviceRef.cpu(0), false, "p");
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("p.weight_packed", Tensor.ofInts(Shape.of(4, 2), new int[8]));
        t.put("p.weight_scale", Tensor.allocate(DType.BF16, Shape.of(4, 2)));
        t.put("p.weight_shape", longs(4, 17));
        fails(WeightLoadException.class, () -> c.read(TensorSource.of(t)), "'p.weight_shape' says the weight is [4, 17]",
                "the layer is [4, 16]");
        t.put("p.weight_shape", longs(4, 16));
        t.put("p.weight_scale", Tensor.allocate(DType.BF16, Shape.of(4, 3)));
        fails(WeightLoadException.class, () -> c.read(TensorSource.of(t)), "'p.weight_scale' has shape (4, 3), expected (4, 2)");
        t.put("p.weight_scale", Tensor.allocate(DType.BF16, Shape.of(4, 2)));
        t.put("p.weight_zero_point", Tensor.ofInts(Shape.of(1, 2), new int[2]));
        fails(WeightLoadException.class, () -> c.read(TensorSource.of(t)), "unexpected key 'p.weight_zero_point'");
        t.remove("p.weight_zero_point");
        t.put("p.weight_g_idx", Tensor.ofInts(Shape.of(16), 0, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
        fails(WeightLoadException.class, () -> c.read(TensorSource.of(t)), "'p.weight_g_idx': entry 2 is 2, outside the 2 groups");
    }
}

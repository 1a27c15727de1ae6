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
import dev.tornadonn.core.io.QuantizationConfig;
import dev.tornadonn.core.io.TensorSource;
import dev.tornadonn.core.weights.Int8InputQuantization;
import dev.tornadonn.core.weights.Int8Matrix;
import dev.tornadonn.core.weights.Int8WeightScale;
import dev.tornadonn.layers.LinearWeights;
import java.lang.foreign.ValueLayout;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * compressed-tensors' int8 W8A8: its config read as vLLM reads it, and its tensors loaded
 * strictly, each problem a WeightLoadException naming the key and what was expected.
 */
class Int8LinearLoadingTest {
    private static final int N = 5;
    private static final int K = 9;

    private static final Int8Scheme CHANNEL_TOKEN = Int8Scheme.of(Int8Scheme.WeightScale.CHANNEL,
            Int8Scheme.InputScale.DYNAMIC_TOKEN, true);
    private static final Int8Scheme TENSOR_STATIC_ASYM = Int8Scheme.of(Int8Scheme.WeightScale.TENSOR,
            Int8Scheme.InputScale.STATIC_TENSOR, false);
    private static final Int8Scheme TENSOR_STATIC = Int8Scheme.of(Int8Scheme.WeightScale.TENSOR,
            Int8Scheme.InputScale.STATIC_TENSOR, true);

    /** llm-compressor's W8A8 INT8 preset (channel weights, dynamic per-token inputs) as its config.json holds it. */
    private static String config(String weights, String inputs) {
        return "{\"quant_method\": \"compressed-tensors\", \"format\": \"int-quantized\", \"quantization_status\": "
                + "\"compressed\", \"ignore\": [\"lm_head\"], \"kv_cache_scheme\": null, \"config_groups\": {\"group_0\": "
                + "{\"targets\": [\"Linear\"], \"output_activations\": null, \"weights\": " + weights
                + ", \"input_activations\": " + inputs + "}}}";
    }

    private static final String WEIGHTS = "{\"num_bits\": 8, \"type\": \"int\", \"symmetric\": true, \"dynamic\": false, "
            + "\"strategy\": \"channel\", \"group_size\": null, \"block_structure\": null, \"actorder\": null, "
            + "\"observer\": \"minmax\", \"observer_kwargs\": {}}";
    private static final String INPUTS = "{\"num_bits\": 8, \"type\": \"int\", \"symmetric\": true, \"dynamic\": true, "
            + "\"strategy\": \"token\", \"group_size\": null, \"block_structure\": null, \"actorder\": null, "
            + "\"observer\": null, \"observer_kwargs\": {}}";

    private static Int8Scheme parse(String json) {
        return Int8Scheme.fromCompressedTensors(QuantizationConfig.parse(json));
    }

    private static void rejects(String json, String... fragments) {
        ConfigException e = assertThrows(ConfigException.class, () -> parse(json));
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), () -> "'" + e.getMessage() + "' lacks '" + f + "'");
        }
    }

    @Test
    void theSchemesVllmRunsAreRead() {
        assertEquals(CHANNEL_TOKEN, parse(config(WEIGHTS, INPUTS)));
        String staticAsym = INPUTS.replace("\"dynamic\": true", "\"dynamic\": false").replace("\"token\"", "\"tensor\"")
                .replace("\"symmetric\": true", "\"symmetric\": false");
        assertEquals(TENSOR_STATIC_ASYM, parse(config(WEIGHTS.replace("\"channel\"", "\"tensor\""), staticAsym)));
        String asymToken = INPUTS.replace("\"symmetric\": true", "\"symmetric\": false");
        assertEquals(Int8Scheme.of(Int8Scheme.WeightScale.CHANNEL, Int8Scheme.InputScale.DYNAMIC_TOKEN, false),
                parse(config(WEIGHTS, asymToken)));
        // Older writers: "naive-quantized", and the format given in the group rather than at the top.
        assertEquals(CHANNEL_TOKEN, parse(config(WEIGHTS, INPUTS).replace("int-quantized", "naive-quantized")));
        assertEquals(CHANNEL_TOKEN, parse(config(WEIGHTS, INPUTS).replace("\"format\": \"int-quantized\", ", "")
                .replace("\"targets\"", "\"format\": \"int-quantized\", \"targets\"")));
    }

    @Test
    void everyOtherSchemeIsRefusedNamingTheField() {
        rejects(config(WEIGHTS.replace("\"symmetric\": true", "\"symmetric\": false"), INPUTS),
                "group_0.weights.symmetric", "asymmetric int8 weights");
        rejects(config(WEIGHTS.replace("\"channel\"", "\"group\"").replace("\"group_size\": null", "\"group_size\": 128"), INPUTS),
                "group_0.weights.group_size");
        rejects(config(WEIGHTS.replace("\"channel\"", "\"block\""), INPUTS), "group_0.weights.strategy 'block'");
        rejects(config(WEIGHTS, INPUTS.replace("\"token\"", "\"tensor\"")), "input_activations.strategy 'tensor' with dynamic=true");
        rejects(config(WEIGHTS, INPUTS.replace("\"dynamic\": true", "\"dynamic\": false")), "strategy 'token' with dynamic=false");
        rejects(config(WEIGHTS, INPUTS.replace("\"dynamic\": true", "\"dynamic\": \"local\"")), "input_activations.dynamic");
        rejects(config(WEIGHTS, "null"), "input_activations is null", "W8A16");
        rejects(config(WEIGHTS.replace("\"num_bits\": 8", "\"num_bits\": 4"), INPUTS), "weights.num_bits must be 8");
        rejects(config(WEIGHTS, INPUTS.replace("\"int\"", "\"float\"")), "input_activations.type must be \"int\"");
        rejects(config(WEIGHTS, INPUTS).replace("int-quantized", "pack-quantized"), "quantization_config.format is 'pack-quantized'");
        rejects(config(WEIGHTS, INPUTS).replace("{\"group_0\"", "{\"group_1\": {}, \"group_0\""), "2 groups [group_1, group_0]");
        rejects("{\"quant_method\": \"fp8\"}", "quant_method 'fp8'");
    }

    private static Map<String, Tensor> checkpoint(Shape scaleShape) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        Tensor w = Tensor.allocate(DType.I8, Shape.of(N, K));
        for (int i = 0; i < N * K; i++) {
            w.data().set(ValueLayout.JAVA_BYTE, i, (byte) (i * 37 - 128));
        }
        m.put("p.weight", w);
        m.put("p.weight_scale", Tensor.allocate(DType.BF16, scaleShape).fill(0.015625f));
        return m;
    }

    private static Int8LinearConfig layer(Int8Scheme scheme) {
        return Int8LinearConfig.of(K, N, scheme).withName("p");
    }

    private static void fails(Map<String, Tensor> ckpt, Int8LinearConfig cfg, String... fragments) {
        WeightLoadException e = assertThrows(WeightLoadException.class, () -> cfg.read(TensorSource.of(ckpt)));
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), () -> "'" + e.getMessage() + "' lacks '" + f + "'");
        }
    }

    private static Tensor i8(Shape shape, int value) {
        Tensor t = Tensor.allocate(DType.I8, shape);
        for (int i = 0; i < t.numel(); i++) {
            t.data().set(ValueLayout.JAVA_BYTE, i, (byte) value);
        }
        return t;
    }

    @Test
    void theLayoutsTheToolsWriteAreRead() {
        Int8Matrix m = (Int8Matrix) layer(CHANNEL_TOKEN).read(TensorSource.of(checkpoint(Shape.of(N, 1)))).weight();
        assertEquals(0.015625f, ((Int8WeightScale.PerChannel) m.weightScale()).scales()[4]);
        assertInstanceOf(Int8InputQuantization.DynamicPerToken.class, m.input());
        assertEquals((byte) (10 * 37 - 128), m.code(1, 1));
        // Channel scales as (N,) too; a tensor scale as (), (1,) or (1, 1); F16 and F32 scales.
        layer(CHANNEL_TOKEN).read(TensorSource.of(checkpoint(Shape.of(N))));
        for (Shape s : new Shape[] {Shape.of(), Shape.of(1), Shape.of(1, 1)}) {
            Map<String, Tensor> c = checkpoint(s);
            c.put("p.input_scale", Tensor.of(DType.F16, s, 0.25f));
            c.put("p.input_zero_point", i8(s, -7));
            Int8Matrix t = (Int8Matrix) layer(TENSOR_STATIC_ASYM).read(TensorSource.of(c)).weight();
            assertEquals(new Int8InputQuantization.StaticAsymmetric(0.25f, -7), t.input());
            assertEquals(new Int8WeightScale.PerTensor(0.015625f), t.weightScale());
        }
    }

    /**
     * compressed-tensors before May 2024 wrote all-zero zero points for symmetric schemes; later
     * writers (to March 2025) dropped every all-zero zero point, an asymmetric one included, which
     * compressed-tensors reads back as 0.
     */
    @Test
    void zeroPointsAsEachWriterLeftThem() {
        Map<String, Tensor> old = checkpoint(Shape.of(N, 1));
        old.put("p.weight_zero_point", i8(Shape.of(N, 1), 0));
        LinearWeights read = layer(CHANNEL_TOKEN).read(TensorSource.of(old));
        assertTrue(read.keys().contains("p.weight_zero_point"), "claimed, so an MLP does not call it unexpected");
        Map<String, Tensor> sym = checkpoint(Shape.of(1));
        sym.put("p.input_scale", Tensor.of(DType.F32, Shape.of(1), 0.5f));
        sym.put("p.input_zero_point", i8(Shape.of(1), 0));
        assertEquals(new Int8InputQuantization.Static(0.5f), ((Int8Matrix) layer(TENSOR_STATIC).read(TensorSource.of(sym)).weight()).input());
        Map<String, Tensor> dropped = checkpoint(Shape.of(1));
        dropped.put("p.input_scale", Tensor.of(DType.F32, Shape.of(1), 0.5f));
        assertEquals(new Int8InputQuantization.StaticAsymmetric(0.5f, 0),
                ((Int8Matrix) layer(TENSOR_STATIC_ASYM).read(TensorSource.of(dropped)).weight()).input());

        Map<String, Tensor> asymWeights = checkpoint(Shape.of(N, 1));
        Tensor z = i8(Shape.of(N, 1), 0);
        z.data().set(ValueLayout.JAVA_BYTE, 3, (byte) 2);
        asymWeights.put("p.weight_zero_point", z);
        fails(asymWeights, layer(CHANNEL_TOKEN), "'p.weight_zero_point' element 3 is 2, expected 0: int8 weights are symmetric");
        sym.put("p.input_zero_point", i8(Shape.of(1), 3));
        fails(sym, layer(TENSOR_STATIC), "'p.input_zero_point' element 0 is 3, expected 0: the config's inputs are symmetric");
        dropped.put("p.input_zero_point", Tensor.ofInts(Shape.of(1), 200));
        fails(dropped, layer(TENSOR_STATIC_ASYM), "'p.input_zero_point' is 200, outside int8's [-128, 127]");
    }

    @Test
    void missingUnexpectedAndMisshapenKeysAreNamedAllAtOnce() {
        Map<String, Tensor> c = checkpoint(Shape.of(N, 1));
        c.remove("p.weight_scale");
        fails(c, layer(CHANNEL_TOKEN), "missing key 'p.weight_scale'");
        Map<String, Tensor> extra = checkpoint(Shape.of(N, 1));
        extra.put("p.input_scale", Tensor.of(DType.F32, Shape.of(1), 1f));
        extra.put("p.input_zero_point", i8(Shape.of(1), 0));
        fails(extra, layer(CHANNEL_TOKEN), "unexpected key 'p.input_scale' (inputs are quantised dynamically",
                "unexpected key 'p.input_zero_point'");
        fails(checkpoint(Shape.of(1)), layer(TENSOR_STATIC), "missing key 'p.input_scale'");
        fails(checkpoint(Shape.of(N, 1)), layer(CHANNEL_TOKEN).withBias(true), "missing key 'p.bias'");

        Map<String, Tensor> bad = checkpoint(Shape.of(1, N));
        bad.put("p.weight", Tensor.allocate(DType.U8, Shape.of(N, K + 1)));
        fails(bad, layer(CHANNEL_TOKEN), "'p.weight' has dtype U8, expected I8", "'p.weight' has shape (5, 10), expected (5, 9)",
                "'p.weight_scale' has shape (1, 5), expected (5, 1) (or (5,)) for CHANNEL scales");
        fails(checkpoint(Shape.of(N, 1)), layer(TENSOR_STATIC), "'p.weight_scale' has shape (5, 1), expected () (or (1,) or (1, 1)) for a TENSOR scale");

        Map<String, Tensor> values = checkpoint(Shape.of(N, 1));
        values.get("p.weight_scale").setFloat(2, -1f);
        fails(values, layer(CHANNEL_TOKEN), "'p.weight_scale' element 2 is -1.0, expected a finite non-negative scale");
        Map<String, Tensor> zeroInput = checkpoint(Shape.of(1));
        zeroInput.put("p.input_scale", Tensor.of(DType.F32, Shape.of(1), 0f));
        fails(zeroInput, layer(TENSOR_STATIC), "'p.input_scale' element 0 is 0.0, expected a finite positive scale");
        zeroInput.put("p.input_scale", Tensor.of(DType.I32, Shape.of(1), 1f));
        fails(zeroInput, layer(TENSOR_STATIC), "'p.input_scale' has dtype I32, expected one of [F32, F16, BF16]");
    }

    @Test
    void tensorsInHandAreCheckedLikeLoadedOnes() {
        Map<String, Tensor> c = checkpoint(Shape.of(N, 1));
        LinearWeights w = layer(CHANNEL_TOKEN).weightsOf(c.get("p.weight"), c.get("p.weight_scale"), null, null, null);
        assertEquals(Set.of(), w.keys());
        WeightLoadException e = assertThrows(WeightLoadException.class, () -> layer(TENSOR_STATIC).weightsOf(
                c.get("p.weight"), c.get("p.weight_scale"), null, Tensor.ofInts(Shape.of(1), 1), null));
        assertTrue(e.getMessage().contains("input_scale must be given"), e::getMessage);
        assertTrue(e.getMessage().contains("input_zero_point must be null"), e::getMessage);
    }
}

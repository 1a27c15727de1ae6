package dev.tornadonn.layers.quant;

import dev.tornadonn.core.ConfigException;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.io.QuantizationConfig;
import org.junit.jupiter.api.Test;

/** Config validation and the Hugging Face mapping. */
class Float8ConfigTest {
    private static QuantizationConfig json(String s) {
        return QuantizationConfig.parse(s.replace('\'', '"'));
    }

    private static void rejects(String fragment, org.junit.jupiter.api.function.Executable e) {
        ConfigException ex = assertThrows(ConfigException.class, e);
        assertTrue(ex.getMessage().contains(fragment), () -> "'" + ex.getMessage() + "' lacks '" + fragment + "'");
    }

    @Test
    void invalidSpecsAreRejectedWithClearMessages() {
        rejects("COLWISE", () -> new Float8WeightScaleSpec(Float8ScaleGranularity.COLWISE, null));
        rejects("needs a block size", () -> new Float8WeightScaleSpec(Float8ScaleGranularity.BLOCK, null));
        rejects("takes no block size", () -> new Float8WeightScaleSpec(Float8ScaleGranularity.TENSOR, new Float8BlockSize(1, 1)));
        rejects("two positive values", () -> Float8WeightScaleSpec.block(0, 128));
        rejects("ROWWISE", () -> new Float8InputScaleSpec(Float8ScaleGranularity.ROWWISE, Float8ScaleOrigin.DYNAMIC, null, null));
        rejects("must be TENSOR", () -> new Float8InputScaleSpec(Float8ScaleGranularity.COLWISE, Float8ScaleOrigin.STATIC, null, null));
        rejects("dynamic input scales only", () -> new Float8InputScaleSpec(Float8ScaleGranularity.TENSOR, Float8ScaleOrigin.STATIC, 1200f, null));
        rejects("finite and > 0", () -> Float8InputScaleSpec.dynamicPerToken(0f));
        rejects("finite and > 0", () -> Float8InputScaleSpec.dynamicPerToken(Float.NaN));
        rejects("(1, bk)", () -> new Float8InputScaleSpec(Float8ScaleGranularity.BLOCK, Float8ScaleOrigin.DYNAMIC, null, new Float8BlockSize(2, 128)));
        rejects("output dtype", () -> new Float8Config(Float8InputScaleSpec.staticTensor(), Float8WeightScaleSpec.tensor(), DType.F8_E4M3FN));
        Float8Config ok = Float8Config.of(Float8InputScaleSpec.staticTensor(), Float8WeightScaleSpec.tensor());
        rejects("clip_weight", () -> new Fp8LinearConfig(4, 4, DType.F8_E4M3FN, ok, dev.tornadonn.core.DeviceRef.cpu(0), false, "", 0.5));
        rejects("F8_E4M3FN or F8_E5M2", () -> Fp8LinearConfig.of(4, 4, DType.BF16, ok));
        assertEquals(DType.BF16, ok.outputDType());
    }

    @Test
    void deepSeekFp8MapsToBlockScalesOfAnySize() {
        Float8Config c = Float8Config.fromHuggingFace(json(
                "{'quant_method':'fp8','activation_scheme':'dynamic','fmt':'e4m3','weight_block_size':[64,32]}"));
        assertEquals(Float8WeightScaleSpec.block(64, 32), c.weightScale());
        assertEquals(Float8InputScaleSpec.dynamicBlock(32, null), c.inputScale());
        assertEquals(DType.BF16, c.outputDType());
        // AutoFP8's dynamic export names no block: one weight scale per tensor, x scaled per tensor each call.
        Float8Config autoFp8 = Float8Config.fromHuggingFace(json("{'quant_method':'fp8','activation_scheme':'dynamic'}"));
        assertEquals(Float8WeightScaleSpec.tensor(), autoFp8.weightScale());
        assertEquals(Float8InputScaleSpec.dynamicTensor(null), autoFp8.inputScale());
        assertEquals(autoFp8, Float8Config.fromHuggingFace(json("{'quant_method':'fp8','weight_block_size':null}")));
        Float8Config st = Float8Config.fromHuggingFace(json("{'quant_method':'fp8','activation_scheme':'static'}"));
        assertEquals(Float8InputScaleSpec.staticTensor(), st.inputScale());
        assertEquals(Float8WeightScaleSpec.tensor(), st.weightScale());
        rejects("activation_scheme 'weird'", () -> Float8Config.fromHuggingFace(json("{'quant_method':'fp8','activation_scheme':'weird'}")));
        rejects("weight_block_size", () -> Float8Config.fromHuggingFace(json("{'quant_method':'fp8','weight_block_size':[128]}")));
    }

    @Test
    void fbgemmMapsToPerTokenWithItsBound() {
        Float8Config c = Float8Config.fromHuggingFace(json("{'quant_method':'fbgemm_fp8','activation_scale_ub':1200.0}"));
        assertEquals(Float8InputScaleSpec.dynamicPerToken(1200f), c.inputScale());
        assertEquals(Float8WeightScaleSpec.rowwise(), c.weightScale());
        assertNull(Float8Config.fromHuggingFace(json("{'quant_method':'fbgemm_fp8'}")).inputScale().activationScaleUb());
    }

    @Test
    void compressedTensorsMapsEachStrategy() {
        String tmpl = "{'quant_method':'compressed-tensors','config_groups':{'group_0':{"
                + "'input_activations':{'num_bits':8,'type':'float','dynamic':%s,'strategy':'%s'},"
                + "'weights':{'num_bits':8,'type':'float','dynamic':false,'strategy':'%s','block_structure':[128,64]}}}}";
        Float8Config tokenChannel = Float8Config.fromHuggingFace(json(tmpl.formatted("true", "token", "channel")));
        assertEquals(Float8InputScaleSpec.dynamicPerToken(null), tokenChannel.inputScale());
        assertEquals(Float8WeightScaleSpec.rowwise(), tokenChannel.weightScale());
        Float8Config staticTensor = Float8Config.fromHuggingFace(json(tmpl.formatted("false", "tensor", "tensor")));
        assertEquals(Float8InputScaleSpec.staticTensor(), staticTensor.inputScale());
        assertEquals(Float8WeightScaleSpec.tensor(), staticTensor.weightScale());
        Float8Config block = Float8Config.fromHuggingFace(json(tmpl.formatted("true", "tensor", "block")));
        assertEquals(Float8InputScaleSpec.dynamicTensor(null), block.inputScale());
        assertEquals(Float8WeightScaleSpec.block(128, 64), block.weightScale());
        rejects("strategy 'token' is not supported for static", () -> Float8Config.fromHuggingFace(json(tmpl.formatted("false", "token", "channel"))));
        rejects("weights.strategy 'weird'", () -> Float8Config.fromHuggingFace(json(tmpl.formatted("true", "token", "weird"))));
        rejects("num_bits must be 8", () -> Float8Config.fromHuggingFace(json(tmpl.formatted("true", "token", "channel").replace("'num_bits':8,'type':'float','dynamic':false", "'num_bits':4,'type':'float','dynamic':false"))));
        rejects("type must be \"float\"", () -> Float8Config.fromHuggingFace(json(tmpl.formatted("true", "token", "channel").replace("'type':'float','dynamic':true", "'type':'int','dynamic':true"))));
        rejects("weights.dynamic must be true or false, got \"local\"", () -> Float8Config.fromHuggingFace(json(tmpl.formatted("true", "token", "channel").replace("'dynamic':false,'strategy'", "'dynamic':'local','strategy'"))));
        rejects("dynamic weight scales", () -> Float8Config.fromHuggingFace(json(tmpl.formatted("true", "token", "channel").replace("'dynamic':false,'strategy'", "'dynamic':true,'strategy'"))));
    }

    @Test
    void compressedTensorsWithoutInputActivationsIsWeightOnly() {
        // llm-compressor's FP8 W8A16 scheme: float-quantized weights, input_activations null.
        Float8Config w8a16 = Float8Config.fromHuggingFace(json("{'quant_method':'compressed-tensors','format':'float-quantized',"
                + "'config_groups':{'group_0':{'weights':{'num_bits':8,'type':'float','strategy':'channel'},'input_activations':null}}}"));
        assertEquals(Float8InputScaleSpec.weightOnly(), w8a16.inputScale());
        assertTrue(w8a16.isWeightOnly() && !w8a16.isStatic() && !w8a16.isDynamic());
        assertEquals(Float8WeightScaleSpec.rowwise(), w8a16.weightScale());
        Float8Config tensor = Float8Config.fromHuggingFace(json("{'quant_method':'compressed-tensors','config_groups':{'group_0':"
                + "{'weights':{'num_bits':8,'type':'float','strategy':'tensor'}}}}"));
        assertEquals(Float8InputScaleSpec.weightOnly(), tensor.inputScale());
        rejects("num_bits must be 8", () -> Float8Config.fromHuggingFace(json("{'quant_method':'compressed-tensors','config_groups':{'group_0':"
                + "{'weights':{'num_bits':4,'type':'float','strategy':'channel'}}}}")));
        rejects("applies to dynamic input scales only, but the input scale is NONE",
                () -> new Float8InputScaleSpec(Float8ScaleGranularity.TENSOR, Float8ScaleOrigin.NONE, 2f, null));
        rejects("no scale granularity", () -> new Float8InputScaleSpec(Float8ScaleGranularity.COLWISE, Float8ScaleOrigin.NONE, null, null));
    }

    @Test
    void unknownMethodsAreRejected() {
        rejects("quant_method 'gptq'", () -> Float8Config.fromHuggingFace(json("{'quant_method':'gptq'}")));
        rejects("quant_method is missing", () -> Float8Config.fromHuggingFace(json("{}")));
    }
}

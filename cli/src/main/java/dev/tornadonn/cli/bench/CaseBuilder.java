package dev.tornadonn.cli.bench;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.Activation;
import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.io.TensorSource;
import dev.tornadonn.core.numeric.Float8Format;
import dev.tornadonn.layers.Layer;
import dev.tornadonn.layers.Linear;
import dev.tornadonn.layers.LinearConfig;
import dev.tornadonn.layers.LinearSpec;
import dev.tornadonn.layers.MLP;
import dev.tornadonn.layers.MlpConfig;
import dev.tornadonn.layers.quant.Float8Config;
import dev.tornadonn.layers.quant.Float8InputScaleSpec;
import dev.tornadonn.layers.quant.Float8WeightScaleSpec;
import dev.tornadonn.layers.quant.Fp8LinearConfig;
import dev.tornadonn.layers.quant.GptqConfig;
import dev.tornadonn.layers.quant.GptqFormat;
import dev.tornadonn.layers.quant.GptqLinearConfig;
import dev.tornadonn.layers.quant.GptqPacker;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Builds a case's layer through the public layer API from in-memory tensors, as a checkpoint
 * would give them: every format from the same normal weights ({@link WeightData}), rounded to
 * bf16/f16 or quantised to FP8 and GPTQ as the tools that write such checkpoints do.
 */
final class CaseBuilder {
    private CaseBuilder() {}

    /** A linear case's layer as a checkpoint holds it: the spec that reads it and its tensors (no prefix). */
    record LinearCheckpoint(LinearSpec spec, Map<String, Tensor> tensors) {}

    static Prepared build(BenchCase c, DeviceRef dev, WeightData data) {
        Layer layer;
        long weightBytes;
        if (c.isMlp()) {
            layer = mlp(c, dev, data);
            weightBytes = c.weightElements() * c.format().dtype().byteSize();
        } else {
            LinearCheckpoint checkpoint = linearCheckpoint(c, dev, data);
            Linear linear = Linear.load(checkpoint.spec(), TensorSource.of(checkpoint.tensors()));
            layer = linear;
            weightBytes = switch (c.format()) {
                case F32, BF16, F16 -> c.weightElements() * c.format().dtype().byteSize();
                case FP8 -> c.weightElements() + 4L * c.n(); // e4m3 codes and one f32 scale per row
                case GPTQ_INT4 -> linear.prepared().bytes(); // codes, scales and zero points as the kernel streams them
            };
        }
        Tensor x = Tensor.of(DType.F32, Shape.of(c.m(), c.k()),
                WeightData.uniform(new SplittableRandom(c.m() * 31L + c.k()), c.m() * c.k())).to(dev);
        Tensor y = Tensor.allocate(DType.F32, Shape.of(c.m(), c.n()), dev);
        Layer l = layer;
        return new Prepared(() -> l.forward(x, y), weightBytes, l.toString());
    }
    private static MLP mlp(BenchCase c, DeviceRef dev, WeightData data) {
        DType dt = c.format().dtype();
        if (!dt.isFloatingPoint() || dt.byteSize() < 2) {
            throw new ConfigException("the MLP case takes f32, bf16 or f16 weights, not " + c.format().label());
        }
        MlpConfig mc = MlpConfig.builder(c.k(), c.ffn()).dtype(dt).device(dev).activation(Activation.fromName("silu")).build();
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put(mc.gateProj().weightKey(), Tensor.of(dt, Shape.of(c.ffn(), c.k()), data.matrix(c.ffn(), c.k(), 1)));
        t.put(mc.upProj().weightKey(), Tensor.of(dt, Shape.of(c.ffn(), c.k()), data.matrix(c.ffn(), c.k(), 2)));
        t.put(mc.downProj().weightKey(), Tensor.of(dt, Shape.of(c.k(), c.ffn()), data.matrix(c.k(), c.ffn(), 3)));
        return MLP.load(mc, TensorSource.of(t));
    }

    /** The linear layer of case {@code c} (not an MLP) on {@code dev}, from the normal weights of its shape. */
    static LinearCheckpoint linearCheckpoint(BenchCase c, DeviceRef dev, WeightData data) {
        // Each spec before the weights: a shape the layer refuses is its ConfigException, not a failed draw.
        return switch (c.format()) {
            case F32, BF16, F16 -> {
                DType dt = c.format().dtype();
                LinearConfig config = LinearConfig.builder(c.k(), c.n()).dtype(dt).device(dev).build();
                // Rounded to nearest even, as torch's .to(dtype) writes a checkpoint.
                Tensor w = Tensor.of(dt, Shape.of(c.n(), c.k()), data.matrix(c.n(), c.k(), 0));
                yield new LinearCheckpoint(config, Map.of(config.weightKey(), w));
            }
            case FP8 -> {
                Fp8LinearConfig config = Fp8LinearConfig.of(c.k(), c.n(), DType.F8_E4M3FN,
                        Float8Config.of(Float8InputScaleSpec.dynamicPerToken(null), Float8WeightScaleSpec.rowwise())).withDevice(dev);
                yield new LinearCheckpoint(config, fp8(data.matrix(c.n(), c.k(), 0), c.n(), c.k()));
            }
            case GPTQ_INT4 -> {
                GptqLinearConfig config = new GptqLinearConfig(c.k(), c.n(), GPTQ_INT4_G128, DType.F16, dev, false, "");
                yield new LinearCheckpoint(config, GptqPacker.pack(data.matrix(c.n(), c.k(), 0), config, null));
            }
        };
    }

    /**
     * 4-bit, groups of 128 input channels, symmetric, no act-order, v1 zero points: what most GPTQ
     * checkpoints' quantize_config.json says. The packer rounds each weight to the nearest code on
     * its group's grid (scale = 2·max|w| / 15, zero 8, as AutoGPTQ sets them); GPTQ's solver picks
     * codes on the same grid that cancel earlier rounding errors, so the codes, scales and the bytes
     * the kernel reads have the same ranges.
     */
    static final GptqConfig GPTQ_INT4_G128 = new GptqConfig(4, 128, false, true, GptqFormat.GPTQ);

    /**
     * e4m3 codes as FP8 checkpoints hold them (llm-compressor's and vLLM's per-channel scheme): per
     * row, scale = amax / 448, so the codes span e4m3's range and subnormal codes are as rare as in
     * a real checkpoint; each code the nearest to w / scale. Inputs get dynamic per-token scales.
     */
    private static Map<String, Tensor> fp8(float[] w, int n, int k) {
        Tensor codes = Tensor.allocate(DType.F8_E4M3FN, Shape.of(n, k));
        float[] scales = new float[n];
        for (int r = 0; r < n; r++) {
            int row = r * k;
            float amax = 0f;
            for (int i = row; i < row + k; i++) {
                amax = Math.max(amax, Math.abs(w[i]));
            }
            scales[r] = amax == 0f ? 1f : amax / Float8Format.E4M3FN.max();
            for (int i = row; i < row + k; i++) {
                codes.setFloat(i, w[i] / scales[r]);
            }
        }
        Map<String, Tensor> ckpt = new LinkedHashMap<>();
        ckpt.put("weight", codes);
        ckpt.put("weight_scale", Tensor.of(DType.F32, Shape.of(n, 1), scales));
        return ckpt;
    }
}

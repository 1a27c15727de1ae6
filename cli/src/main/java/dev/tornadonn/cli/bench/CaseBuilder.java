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
import dev.tornadonn.layers.MLP;
import dev.tornadonn.layers.MlpConfig;
import dev.tornadonn.layers.quant.Float8Config;
import dev.tornadonn.layers.quant.Float8InputScaleSpec;
import dev.tornadonn.layers.quant.Float8WeightScaleSpec;
import dev.tornadonn.layers.quant.Fp8LinearConfig;
import dev.tornadonn.layers.quant.GptqConfig;
import dev.tornadonn.layers.quant.GptqFormat;
import dev.tornadonn.layers.quant.GptqLinearConfig;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/** Builds a case's layer through the public layer API from in-memory tensors, as a checkpoint would give them. */
final class CaseBuilder {
    private CaseBuilder() {}

    static Prepared build(BenchCase c, DeviceRef dev, WeightData data) {
        Layer layer;
        long weightBytes;
        if (c.isMlp()) {
            layer = mlp(c, dev, data);
            weightBytes = c.weightElements() * c.format().dtype().byteSize();
        } else {
            switch (c.format()) {
                case F32, BF16, F16 -> {
                    DType dt = c.format().dtype();
                    layer = Linear.of(LinearConfig.builder(c.k(), c.n()).dtype(dt).device(dev).build(),
                            Tensor.of(dt, Shape.of(c.n(), c.k()), data.matrix(c.n(), c.k(), 0)), null);
                    weightBytes = c.weightElements() * dt.byteSize();
                }
                case FP8 -> {
                    layer = fp8(c, dev, data);
                    weightBytes = c.weightElements() + 4L * c.n(); // e4m3 codes and one f32 scale per row
                }
                case GPTQ_INT4 -> {
                    Linear g = gptq(c, dev);
                    layer = g;
                    weightBytes = g.prepared().bytes(); // codes, scales and zero points as the kernel streams them
                }
                default -> throw new IllegalStateException("unhandled format " + c.format());
            }
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

    /**
     * e4m3 weights quantised the way FP8 checkpoints are: per row, scale = amax / 448, so the
     * codes span e4m3's range and subnormal codes are as rare as in a real checkpoint; per-token
     * dynamic input scales.
     */
    private static Linear fp8(BenchCase c, DeviceRef dev, WeightData data) {
        Float8Config f8 = Float8Config.of(Float8InputScaleSpec.dynamicPerToken(null), Float8WeightScaleSpec.rowwise());
        float[] w = data.matrix(c.n(), c.k(), 0);
        Tensor codes = Tensor.allocate(DType.F8_E4M3FN, Shape.of(c.n(), c.k()));
        float[] scales = new float[c.n()];
        for (int r = 0; r < c.n(); r++) {
            int row = r * c.k();
            float amax = 0f;
            for (int i = row; i < row + c.k(); i++) {
                amax = Math.max(amax, Math.abs(w[i]));
            }
            scales[r] = amax == 0f ? 1f : amax / Float8Format.E4M3FN.max();
            for (int i = row; i < row + c.k(); i++) {
                codes.setFloat(i, w[i] / scales[r]);
            }
        }
        Map<String, Tensor> ckpt = new LinkedHashMap<>();
        ckpt.put("weight", codes);
        ckpt.put("weight_scale", Tensor.of(DType.F32, Shape.of(c.n(), 1), scales));
        return Linear.load(Fp8LinearConfig.of(c.k(), c.n(), DType.F8_E4M3FN, f8).withDevice(dev), TensorSource.of(ckpt));
    }

    /**
     * 4-bit GPTQ, group 128, from random packed words rather than GptqPacker.pack: quantising a
     * 32768 × 8192 matrix that way scans every row once per group (minutes), and the values do
     * not change the kernel's speed.
     */
    private static Linear gptq(BenchCase c, DeviceRef dev) {
        GptqLinearConfig cfg = new GptqLinearConfig(c.k(), c.n(), new GptqConfig(4, 128, false, true, GptqFormat.GPTQ),
                DType.F16, dev, false, "");
        SplittableRandom rng = new SplittableRandom(c.n() * 17L + c.k());
        int groups = cfg.groups();
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put(cfg.key("qweight"), Tensor.ofInts(Shape.of(c.k() / 8, c.n()), randomInts(rng, c.k() / 8 * c.n())));
        t.put(cfg.key("qzeros"), Tensor.ofInts(Shape.of(groups, c.n() / 8), randomInts(rng, groups * (c.n() / 8))));
        float[] scales = new float[groups * c.n()];
        for (int i = 0; i < scales.length; i++) {
            scales[i] = (float) (0.01 + 0.01 * rng.nextDouble());
        }
        t.put(cfg.key("scales"), Tensor.of(DType.F16, Shape.of(groups, c.n()), scales));
        return Linear.load(cfg, TensorSource.of(t));
    }

    private static int[] randomInts(SplittableRandom rng, int count) {
        int[] v = new int[count];
        for (int i = 0; i < count; i++) {
            v[i] = rng.nextInt();
        }
        return v;
    }
}

package dev.tornadonn.reference;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.numeric.Float8Format;
import dev.tornadonn.core.weights.WeightKind;
import dev.tornadonn.layers.quant.Float8InputScaleSpec;
import dev.tornadonn.layers.quant.Float8WeightScaleSpec;
import dev.tornadonn.layers.quant.OnlineFp8;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * An unquantised checkpoint quantised to fp8 as it loads, as vLLM's {@code --quantization fp8}
 * does: the reference quantises the weight itself (scale {@code max|w| / 448} in f32, codes
 * {@code e4m3fn(w · (1/scale))}), then runs {@link Fp8Oracle} with dynamic per-token or
 * per-tensor inputs. The output is rounded to the checkpoint's dtype, hence the wider tolerance
 * for BF16 and F16 weights.
 */
public record OnlineFp8LinearCase(Shape xShape, int outDim, DType dtype, boolean perToken, boolean bias, long seed)
        implements ConformanceCase {

    @Override
    public WeightKind weightKind() {
        return WeightKind.FP8;
    }

    @Override
    public String layer() {
        return "online-fp8";
    }

    @Override
    public String weightFormat() {
        return dtype.name() + ">fp8";
    }

    @Override
    public String shape() {
        return "x" + xShape + " -> " + outDim + (perToken ? " x per token" : " x per tensor") + (bias ? " +bias" : "");
    }

    @Override
    public CaseResult run(DeviceRef device) {
        int k = xShape.dim(-1);
        int n = outDim;
        int m = Math.toIntExact(xShape.leadingNumel());
        SplittableRandom rnd = new SplittableRandom(seed);
        Tensor w = RandomTensors.uniform(dtype, Shape.of(n, k), rnd);
        if (n * k > 1) {
            w.setFloat(rnd.nextInt(n * k), rnd.nextBoolean() ? 3f : -3f); // one outlier sets the scale
        }
        Map<String, Tensor> ckpt = new LinkedHashMap<>();
        ckpt.put("proj.weight", w);
        Tensor b = bias ? RandomTensors.uniform(dtype, Shape.of(n), rnd) : null;
        if (b != null) {
            ckpt.put("proj.bias", b);
        }
        Float8Format f = Float8Format.E4M3FN;
        float amax = 0f;
        for (long i = 0; i < w.numel(); i++) {
            amax = Math.max(amax, Math.abs(w.getFloat(i)));
        }
        float scale = amax / f.max();
        float inverse = scale == 0f ? 0f : 1f / scale;
        double[] wq = new double[n * k];
        for (int i = 0; i < wq.length; i++) {
            wq[i] = f.round(w.getFloat(i) * inverse);
        }
        Tensor x = RandomTensors.uniform(DType.F32, xShape, rnd);
        float[] xs = x.toFloatArray();
        Float8InputScaleSpec in = perToken ? Float8InputScaleSpec.dynamicPerToken(null) : Float8InputScaleSpec.dynamicTensor(null);
        double[] bd = b == null ? null : Oracle.decode(b);
        double[] ref = Fp8Oracle.linear(xs, m, k, f, in, 0f, wq, n, Float8WeightScaleSpec.tensor(), new float[] {scale}, bd);
        float[] xAbs = new float[xs.length];
        for (int i = 0; i < xs.length; i++) {
            xAbs[i] = Math.abs(xs[i]);
        }
        double[] magnitude = Fp8Oracle.linear(xAbs, m, k, f, in, 0f, Oracle.abs(wq), n, Float8WeightScaleSpec.tensor(),
                new float[] {scale}, bd == null ? null : Oracle.abs(bd));
        return CheckpointCases.run(this, device, ckpt, null, perToken ? OnlineFp8.perToken() : OnlineFp8.perTensor(), "proj",
                x, ref, magnitude, dtype == DType.F32 ? Tolerance.F32_ACCUMULATION : Fp8LinearCase.BF16_OUTPUT);
    }
}

package dev.tornadonn.reference;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.io.TensorSource;
import dev.tornadonn.core.weights.WeightKind;
import dev.tornadonn.layers.Linear;
import dev.tornadonn.core.numeric.Float8Format;
import dev.tornadonn.layers.quant.Float8Config;
import dev.tornadonn.layers.quant.Float8WeightScaleSpec;
import dev.tornadonn.layers.quant.Fp8LinearConfig;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * An fp8 {@code Linear(in → out)} loaded from a checkpoint map and compared with {@link Fp8Oracle}.
 *
 * @param boundaryWeights about one weight in 8 is ±FMAX, ±0 or a subnormal
 * @param zeroRow         the first row of x is all zeros (a zero dynamic scale)
 * @param scaleDType      F32 or BF16, the checkpoint's scale dtype
 * @param scaleInvKey     the weight scale is stored as {@code weight_scale_inv}
 */
public record Fp8LinearCase(Shape xShape, int outDim, DType dtype, Float8Config config, boolean bias,
                            boolean boundaryWeights, boolean zeroRow, DType scaleDType, boolean scaleInvKey,
                            long seed) implements ConformanceCase {

    /** F32 outputs differ from the oracle only by f32 accumulation; BF16 ones by one rounding too. */
    public static final Tolerance BF16_OUTPUT = new Tolerance(1e-2, 1e-2);

    @Override
    public WeightKind weightKind() {
        return WeightKind.FP8;
    }

    @Override
    public String layer() {
        return "fp8-linear";
    }

    @Override
    public String shape() {
        return "x" + xShape + " -> " + outDim + " " + config + (bias ? " +bias" : "") + (boundaryWeights ? " boundary-w" : "")
                + (zeroRow ? " zero-row" : "") + (scaleDType != DType.F32 ? " scales:" + scaleDType : "")
                + (scaleInvKey ? " weight_scale_inv" : "");
    }

    public Tolerance tolerance() {
        return config.outputDType() == DType.F32 ? Tolerance.F32_ACCUMULATION : BF16_OUTPUT;
    }

    @Override
    public CaseResult run(DeviceRef device) {
        int k = xShape.dim(-1);
        int m = Math.toIntExact(xShape.leadingNumel());
        int n = outDim;
        Float8Format f = dtype == DType.F8_E4M3FN ? Float8Format.E4M3FN : Float8Format.E5M2;
        SplittableRandom rnd = new SplittableRandom(seed);

        Tensor w = Tensor.allocate(dtype, Shape.of(n, k));
        for (int i = 0; i < n * k; i++) {
            w.setFloat(i, boundaryWeights && rnd.nextInt(8) == 0 ? boundary(f, rnd) : (float) (rnd.nextGaussian() * 8));
        }
        Float8WeightScaleSpec wspec = config.weightScale();
        Shape scaleShape = wspec.scaleShape(n, k);
        Tensor ws = Tensor.allocate(scaleDType, scaleShape);
        for (int i = 0; i < ws.numel(); i++) {
            ws.setFloat(i, (float) Math.scalb(1 + rnd.nextDouble(), -4 - rnd.nextInt(7)));
        }
        float[] x = new float[m * k];
        for (int i = 0; i < x.length; i++) {
            double v = rnd.nextDouble() * 8 - 4;
            x[i] = (float) (rnd.nextInt(64) == 0 ? v * 300 : v);
        }
        if (zeroRow) {
            java.util.Arrays.fill(x, 0, k, 0f);
        }
        Tensor is = null;
        if (config.isStatic()) {
            float amax = 0f;
            for (float v : x) {
                amax = Math.max(amax, Math.abs(v));
            }
            // Somewhat below amax / FMAX, so the largest inputs saturate.
            is = Tensor.of(scaleDType, Shape.of(), Math.max(amax, 1f) / f.max() * 0.8f);
        }
        Tensor b = bias ? RandomTensors.uniform(DType.BF16, Shape.of(n), rnd) : null;

        double[] wd = Oracle.decode(w);
        double[] bd = b == null ? null : Oracle.decode(b);
        float staticScale = is == null ? 0f : is.getFloat(0);
        double[] ref = Fp8Oracle.linear(x, m, k, f, config.inputScale(), staticScale, wd, n, wspec, ws.toFloatArray(), bd);
        // The same product of magnitudes (fp8 rounding and the amax scales are symmetric, the weight
        // scales positive): the f32 error budget of a dot product, as for Linear and GPTQ.
        float[] xAbs = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            xAbs[i] = Math.abs(x[i]);
        }
        double[] scale = Fp8Oracle.linear(xAbs, m, k, f, config.inputScale(), staticScale, Oracle.abs(wd), n, wspec,
                ws.toFloatArray(), bd == null ? null : Oracle.abs(bd));
        try {
            Map<String, Tensor> checkpoint = new LinkedHashMap<>();
            checkpoint.put("proj.weight", w);
            checkpoint.put(scaleInvKey ? "proj.weight_scale_inv" : "proj.weight_scale", ws);
            if (is != null) {
                checkpoint.put("proj.input_scale", is);
            }
            if (b != null) {
                checkpoint.put("proj.bias", b);
            }
            Fp8LinearConfig cfg = Fp8LinearConfig.of(k, n, dtype, config).withBias(bias).withName("proj").withDevice(device);
            Tensor xt = Tensor.of(DType.F32, xShape, x).to(device);
            Tensor y = Tensor.allocate(DType.F32, xShape.withLast(n), device).fill(Float.NaN);
            try (Linear layer = Linear.load(cfg, TensorSource.of(checkpoint))) {
                layer.forward(xt, y);
            }
            return new CaseResult(this, device, Comparison.of(y.toFloatArray(), ref, scale), tolerance(), null);
        } catch (RuntimeException e) {
            return new CaseResult(this, device, null, tolerance(), e.toString());
        }
    }

    private static float boundary(Float8Format f, SplittableRandom rnd) {
        float sign = rnd.nextBoolean() ? 1f : -1f;
        float minSub = f == Float8Format.E4M3FN ? 0x1p-9f : 0x1p-16f;
        return sign * switch (rnd.nextInt(4)) {
            case 0 -> f.max();
            case 1 -> 0f;
            case 2 -> minSub;
            default -> minSub * (f == Float8Format.E4M3FN ? 7 : 3); // the largest subnormal
        };
    }
}

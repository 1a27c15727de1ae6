package dev.tornadonn.reference;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.io.TensorSource;
import dev.tornadonn.core.weights.WeightKind;
import dev.tornadonn.layers.Linear;
import dev.tornadonn.layers.quant.Int8LinearConfig;
import dev.tornadonn.layers.quant.Int8Scheme;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * An int8 W8A8 {@code Linear(in → out)} loaded from a checkpoint map in compressed-tensors' layout
 * and compared with {@link Int8Oracle}.
 *
 * @param boundaryWeights about one weight in 4 is −128, 127 or 0
 * @param special         the first row of x is all zeros (a zero dynamic scale) and, with more
 *                        rows, the second is one repeated value (an asymmetric row of span 0)
 * @param ties            x holds values halfway between two codes, which round to the even one
 * @param scaleDType      F32, BF16 or F16: the checkpoint's scale dtype
 */
public record Int8LinearCase(Shape xShape, int outDim, Int8Scheme scheme, boolean bias, boolean boundaryWeights,
                             boolean special, boolean ties, DType scaleDType, long seed) implements ConformanceCase {

    @Override
    public WeightKind weightKind() {
        return WeightKind.INT8;
    }

    @Override
    public String layer() {
        return "int8-linear";
    }

    @Override
    public DType dtype() {
        return DType.I8;
    }

    @Override
    public String weightFormat() {
        return "INT8";
    }

    @Override
    public String shape() {
        return "x" + xShape + " -> " + outDim + " " + scheme + (bias ? " +bias" : "") + (boundaryWeights ? " boundary-w" : "")
                + (special ? " zero/constant rows" : "") + (ties ? " ties" : "")
                + (scaleDType != DType.F32 ? " scales:" + scaleDType : "");
    }

    @Override
    public CaseResult run(DeviceRef device) {
        int k = xShape.dim(-1);
        int m = Math.toIntExact(xShape.leadingNumel());
        int n = outDim;
        SplittableRandom rnd = new SplittableRandom(seed);

        byte[] codes = new byte[n * k];
        for (int i = 0; i < codes.length; i++) {
            codes[i] = (byte) (boundaryWeights && rnd.nextInt(4) == 0 ? new int[] {-128, 127, 0}[rnd.nextInt(3)]
                    : rnd.nextInt(-128, 128));
        }
        Tensor w = Tensor.allocate(DType.I8, Shape.of(n, k));
        java.lang.foreign.MemorySegment.copy(java.lang.foreign.MemorySegment.ofArray(codes), 0, w.data(), 0, codes.length);
        boolean channel = scheme.weightScale() == Int8Scheme.WeightScale.CHANNEL;
        Tensor ws = Tensor.allocate(scaleDType, channel ? Shape.of(n, 1) : Shape.of(1));
        for (int i = 0; i < ws.numel(); i++) {
            ws.setFloat(i, (float) Math.scalb(1 + rnd.nextDouble(), -10 - rnd.nextInt(5)));
        }
        // A power-of-two static scale keeps x / s exact, so the ties below stay ties.
        float staticScale = ties ? 0x1p-5f : 0f;
        float[] x = new float[m * k];
        float offset = scheme.symmetricInput() ? 0f : (float) rnd.nextDouble() * 3; // asymmetric rows off centre
        for (int i = 0; i < x.length; i++) {
            double v = rnd.nextDouble() * 8 - 4 + offset;
            x[i] = (float) (rnd.nextInt(64) == 0 ? v * 30 : v);
            if (ties && scheme.isStatic() && rnd.nextInt(3) == 0) {
                x[i] = (rnd.nextInt(-120, 120) + 0.5f) * staticScale;
            }
        }
        if (ties && !scheme.isStatic()) {
            // Per token: max|x| = 127 makes 127 / max|x| = 1, so k + 0.5 is a tie; asymmetric:
            // min = −127.5 and max = 127.5 make s = 1 and z = 0.
            for (int i = 0; i < m; i++) {
                for (int c = 0; c < k; c++) {
                    x[i * k + c] = rnd.nextInt(-120, 120) + 0.5f;
                }
                x[i * k] = scheme.symmetricInput() ? 127f : -127.5f;
                if (k > 1 && !scheme.symmetricInput()) {
                    x[i * k + 1] = 127.5f;
                }
            }
        }
        if (special) {
            java.util.Arrays.fill(x, 0, k, 0f);
            if (m > 1) {
                java.util.Arrays.fill(x, k, 2 * k, (float) (rnd.nextDouble() * 4 - 2));
            }
        }
        Tensor is = null;
        Tensor iz = null;
        int staticZero = 0;
        if (scheme.isStatic()) {
            if (!ties) {
                float amax = 0f;
                for (float v : x) {
                    amax = Math.max(amax, Math.abs(v));
                }
                // Somewhat below amax / 127, so the largest inputs saturate.
                staticScale = Math.max(amax, 1f) / 127f * 0.8f;
            }
            is = Tensor.of(scaleDType, Shape.of(1), staticScale);
            staticScale = is.getFloat(0); // as stored
            if (!scheme.symmetricInput()) {
                staticZero = rnd.nextInt(-40, 41);
                iz = Tensor.allocate(DType.I8, Shape.of(1));
                iz.data().set(java.lang.foreign.ValueLayout.JAVA_BYTE, 0, (byte) staticZero);
            }
        }
        Tensor b = bias ? RandomTensors.uniform(DType.BF16, Shape.of(n), rnd) : null;

        double[] bd = b == null ? null : Oracle.decode(b);
        float[] wScales = ws.toFloatArray();
        double[] ref = Int8Oracle.linear(x, m, k, scheme, staticScale, staticZero, codes, n, wScales, bd);
        // The product of magnitudes bounds the f32 rounding of the scales' products and the bias.
        double[] xd = Oracle.abs(Int8Oracle.quantiseInput(x, m, k, scheme, staticScale, staticZero));
        double[] wd = new double[n * k];
        for (int j = 0; j < n; j++) {
            for (int c = 0; c < k; c++) {
                wd[j * k + c] = Math.abs(codes[j * k + c] * (double) wScales[channel ? j : 0]);
            }
        }
        double[] scale = Oracle.linear(xd, m, k, wd, n, bd == null ? null : Oracle.abs(bd));
        try {
            Map<String, Tensor> checkpoint = new LinkedHashMap<>();
            checkpoint.put("proj.weight", w);
            checkpoint.put("proj.weight_scale", ws);
            if (is != null) {
                checkpoint.put("proj.input_scale", is);
            }
            if (iz != null) {
                checkpoint.put("proj.input_zero_point", iz);
            }
            if (b != null) {
                checkpoint.put("proj.bias", b);
            }
            Int8LinearConfig cfg = Int8LinearConfig.of(k, n, scheme).withBias(bias).withName("proj").withDevice(device);
            Tensor xt = Tensor.of(DType.F32, xShape, x).to(device);
            Tensor y = Tensor.allocate(DType.F32, xShape.withLast(n), device).fill(Float.NaN);
            try (Linear layer = Linear.load(cfg, TensorSource.of(checkpoint))) {
                layer.forward(xt, y);
            }
            return new CaseResult(this, device, Comparison.of(y.toFloatArray(), ref, scale), Tolerance.F32_ACCUMULATION, null);
        } catch (RuntimeException e) {
            return new CaseResult(this, device, null, Tolerance.F32_ACCUMULATION, e.toString());
        }
    }
}

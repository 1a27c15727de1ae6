package dev.tornadonn.reference;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.io.GgmlType;
import dev.tornadonn.core.weights.WeightKind;
import dev.tornadonn.layers.Linear;
import dev.tornadonn.layers.quant.GgufLinearConfig;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

/**
 * A GGUF {@code Linear(in → out)} of random blocks (every code, scales and mins; f16 scales finite
 * and of either sign) compared with {@link GgufOracle}'s values multiplied in float64.
 */
public record GgufLinearCase(Shape xShape, int outDim, GgmlType type, boolean bias, long seed) implements ConformanceCase {

    @Override
    public WeightKind weightKind() {
        return WeightKind.GGUF;
    }

    @Override
    public String layer() {
        return "gguf-linear";
    }

    @Override
    public DType dtype() {
        return DType.U8;
    }

    @Override
    public String weightFormat() {
        return "gguf " + type.name();
    }

    @Override
    public String shape() {
        return "x" + xShape + " -> " + outDim + " " + type + (bias ? " +bias" : "");
    }

    /** Random blocks: random bytes, then finite f16 scales written over each block's scale fields. */
    static byte[] randomBlocks(GgmlType type, int rows, int cols, SplittableRandom rnd) {
        int rowBytes = (int) type.rowBytes(cols);
        byte[] b = new byte[rows * rowBytes];
        rnd.nextBytes(b);
        int blocks = b.length / type.blockBytes();
        for (int i = 0; i < blocks; i++) {
            int at = i * type.blockBytes();
            switch (type) {
                case Q4_0, Q8_0 -> half(b, at, 0.05, rnd);
                case Q4_K -> {
                    half(b, at, 0.02, rnd);
                    half(b, at + 2, 0.02, rnd);
                }
                case Q6_K -> half(b, at + 208, 0.002, rnd);
                default -> throw new ConfigException(type.toString());
            }
        }
        return b;
    }

    private static void half(byte[] b, int at, double magnitude, SplittableRandom rnd) {
        double v = magnitude * (0.05 + rnd.nextDouble()) * (rnd.nextBoolean() ? 1 : -1);
        short h = Float.floatToFloat16((float) v);
        b[at] = (byte) h;
        b[at + 1] = (byte) (h >> 8);
    }

    @Override
    public CaseResult run(DeviceRef device) {
        int k = xShape.dim(-1);
        int m = Math.toIntExact(xShape.leadingNumel());
        int n = outDim;
        SplittableRandom rnd = new SplittableRandom(seed);
        byte[] raw = randomBlocks(type, n, k, rnd);
        Tensor blocks = Tensor.allocate(DType.U8, Shape.of(n, (int) type.rowBytes(k)));
        MemorySegment.copy(MemorySegment.ofArray(raw), 0, blocks.data(), 0, raw.length);
        float[] x = new float[m * k];
        double[] xd = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (rnd.nextDouble() * 2 - 1);
            xd[i] = x[i];
        }
        Tensor b = bias ? RandomTensors.uniform(DType.F32, Shape.of(n), rnd) : null;
        double[] w = GgufOracle.decode(type, raw, n, k);
        double[] bd = b == null ? null : Oracle.decode(b);
        double[] ref = Oracle.linear(xd, m, k, w, n, bd);
        double[] scale = Oracle.linear(Oracle.abs(xd), m, k, Oracle.abs(w), n, bd == null ? null : Oracle.abs(bd));
        Tolerance tol = Tolerance.F32_ACCUMULATION;
        try {
            GgufLinearConfig cfg = GgufLinearConfig.of(k, n, type).withBias(bias).withName("blk.0.ffn_down").withDevice(device);
            Tensor xt = Tensor.of(DType.F32, xShape, x).to(device);
            Tensor y = Tensor.allocate(DType.F32, xShape.withLast(n), device).fill(Float.NaN);
            try (Linear layer = Linear.of(cfg.weightsOf(blocks, b), device)) {
                layer.forward(xt, y);
            }
            return new CaseResult(this, device, Comparison.of(y.to(DeviceRef.cpu(0)).toFloatArray(), ref, scale), tol, null);
        } catch (RuntimeException e) {
            return new CaseResult(this, device, null, tol, e.toString());
        }
    }
}

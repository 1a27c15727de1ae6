package dev.tornadonn.reference;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.io.TensorSource;
import dev.tornadonn.layers.Linear;
import dev.tornadonn.layers.LinearConfig;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/** {@code Linear(in → out)} on an input of shape {@code xShape} (last dimension {@code in}). */
public record LinearCase(Shape xShape, int outDim, DType dtype, DType inputDType, boolean bias, double clip,
                         long seed) implements ConformanceCase {

    @Override
    public String layer() {
        return "linear";
    }

    @Override
    public String shape() {
        return "x" + xShape + " -> " + outDim + (inputDType != DType.F32 ? " x:" + inputDType : "")
                + (bias ? " +bias" : "") + (clip != 0 ? " clip=" + clip : "");
    }

    @Override
    public CaseResult run(DeviceRef device) {
        int inDim = xShape.dim(-1);
        int m = Math.toIntExact(xShape.leadingNumel());
        SplittableRandom rnd = new SplittableRandom(seed);
        Tensor w = RandomTensors.uniform(dtype, Shape.of(outDim, inDim), rnd);
        Tensor b = bias ? RandomTensors.uniform(dtype, Shape.of(outDim), rnd) : null;
        Tensor x = RandomTensors.uniform(inputDType, xShape, rnd);

        double[] wd = Oracle.decode(w);
        if (clip != 0) {
            wd = Oracle.clip(wd, dtype.round((float) clip));
        }
        double[] xd = Oracle.decode(x);
        double[] bd = b == null ? null : Oracle.decode(b);
        double[] ref = Oracle.linear(xd, m, inDim, wd, outDim, bd);
        double[] scale = Oracle.linear(Oracle.abs(xd), m, inDim, Oracle.abs(wd), outDim, bd == null ? null : Oracle.abs(bd));
        try {
            Map<String, Tensor> checkpoint = new LinkedHashMap<>();
            checkpoint.put("proj.weight", w);
            if (b != null) {
                checkpoint.put("proj.bias", b);
            }
            LinearConfig config = LinearConfig.builder(inDim, outDim).dtype(dtype).device(device)
                    .hasBias(bias).name("proj").clipWeight(clip).build();
            Linear layer = Linear.load(config, TensorSource.of(checkpoint));
            Tensor y = Tensor.allocate(DType.F32, xShape.withLast(outDim), device).fill(Float.NaN);
            layer.forward(x.to(device), y);
            return new CaseResult(this, device, Comparison.of(y.toFloatArray(), ref, scale), Tolerance.F32_ACCUMULATION, null);
        } catch (RuntimeException e) {
            return new CaseResult(this, device, null, Tolerance.F32_ACCUMULATION, e.toString());
        }
    }
}

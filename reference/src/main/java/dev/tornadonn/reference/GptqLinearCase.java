package dev.tornadonn.reference;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.io.TensorSource;
import dev.tornadonn.core.weights.WeightKind;
import dev.tornadonn.layers.Linear;
import dev.tornadonn.layers.quant.GptqConfig;
import dev.tornadonn.layers.quant.GptqFormat;
import dev.tornadonn.layers.quant.GptqLinearConfig;
import dev.tornadonn.layers.quant.GptqPacker;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A GPTQ linear on an input of shape {@code xShape}: random weights packed by {@link GptqPacker}
 * (with a random act-order channel assignment when {@code actOrder}), checked against
 * {@link GptqOracle}'s independent decoding of the very same checkpoint.
 */
public record GptqLinearCase(Shape xShape, int outDim, GptqConfig quant, boolean actOrder, boolean bias, long seed)
        implements ConformanceCase {

    @Override
    public WeightKind weightKind() {
        return WeightKind.GROUP_QUANTIZED;
    }

    @Override
    public String layer() {
        return "gptq-linear";
    }

    @Override
    public DType dtype() {
        return DType.I32;
    }

    @Override
    public String weightFormat() {
        return "GPTQ-" + quant.bits() + "b";
    }

    @Override
    public String shape() {
        return "x" + xShape + " -> " + outDim + " " + quant.bits() + "b g" + quant.groupSize()
                + (quant.sym() ? " sym" : " asym") + (actOrder ? " act-order" : "")
                + (quant.format() == GptqFormat.GPTQ ? " v1" : " v2") + (bias ? " +bias" : "");
    }

    @Override
    public CaseResult run(DeviceRef device) {
        int inDim = xShape.dim(-1);
        int m = Math.toIntExact(xShape.leadingNumel());
        SplittableRandom rnd = new SplittableRandom(seed);
        GptqLinearConfig config = new GptqLinearConfig(inDim, outDim, quant, DType.F16, device, bias, "q");
        float[] w = RandomTensors.uniform(DType.F32, Shape.of(outDim, inDim), rnd).toFloatArray();
        Map<String, Tensor> checkpoint = new java.util.LinkedHashMap<>(GptqPacker.pack(w, config, actOrder ? shuffledGroups(config, rnd) : null));
        if (!actOrder && rnd.nextBoolean()) {
            checkpoint.remove("q.g_idx"); // plain checkpoints may omit it
        }
        if (bias) {
            checkpoint.put("q.bias", RandomTensors.uniform(DType.F16, Shape.of(outDim), rnd));
        }
        Tensor x = RandomTensors.uniform(DType.F32, xShape, rnd);
        double[] wd = GptqOracle.dequantize(checkpoint.get("q.qweight"), checkpoint.get("q.qzeros"), checkpoint.get("q.scales"),
                checkpoint.get("q.g_idx"), quant.bits(), quant.groupSize(), quant.format() == GptqFormat.GPTQ);
        double[] xd = Oracle.decode(x);
        double[] bd = bias ? Oracle.decode(checkpoint.get("q.bias")) : null;
        double[] ref = Oracle.linear(xd, m, inDim, wd, outDim, bd);
        double[] scale = Oracle.linear(Oracle.abs(xd), m, inDim, Oracle.abs(wd), outDim, bd == null ? null : Oracle.abs(bd));
        try {
            Tensor y = Tensor.allocate(DType.F32, xShape.withLast(outDim), device).fill(Float.NaN);
            try (Linear layer = Linear.load(config, TensorSource.of(checkpoint))) {
                layer.forward(x.to(device), y);
            }
            return new CaseResult(this, device, Comparison.of(y.toFloatArray(), ref, scale), Tolerance.F32_ACCUMULATION, null);
        } catch (RuntimeException e) {
            return new CaseResult(this, device, null, Tolerance.F32_ACCUMULATION, e.toString());
        }
    }

    /** Every channel gets a group, each group exactly group_size channels, in a random order (like act-order). */
    static int[] shuffledGroups(GptqLinearConfig config, SplittableRandom rnd) {
        int k = config.inDim();
        int size = config.quant().effectiveGroupSize(k);
        List<Integer> channels = new ArrayList<>();
        for (int i = 0; i < k; i++) {
            channels.add(i);
        }
        Collections.shuffle(channels, new java.util.Random(rnd.nextLong()));
        int[] group = new int[k];
        for (int pos = 0; pos < k; pos++) {
            group[channels.get(pos)] = pos / size;
        }
        return group;
    }
}

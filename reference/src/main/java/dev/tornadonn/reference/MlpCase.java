package dev.tornadonn.reference;

import dev.tornadonn.core.Activation;
import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.io.TensorSource;
import dev.tornadonn.layers.MLP;
import dev.tornadonn.layers.MlpConfig;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/** A gated MLP {@code hidden → ffn → hidden} on an input of shape {@code xShape} (last dimension hidden). */
public record MlpCase(Shape xShape, int ffnDim, DType dtype, Activation activation, boolean bias, long seed)
        implements ConformanceCase {

    @Override
    public String layer() {
        return "mlp";
    }

    @Override
    public String shape() {
        return "x" + xShape + " ffn=" + ffnDim + " " + activation.configName() + (bias ? " +bias" : "");
    }

    @Override
    public CaseResult run(DeviceRef device) {
        int hidden = xShape.dim(-1);
        int m = Math.toIntExact(xShape.leadingNumel());
        SplittableRandom rnd = new SplittableRandom(seed);
        Map<String, Tensor> checkpoint = new LinkedHashMap<>();
        String[] projections = {"gate_proj", "up_proj", "down_proj"};
        for (String p : projections) {
            Shape ws = p.equals("down_proj") ? Shape.of(hidden, ffnDim) : Shape.of(ffnDim, hidden);
            checkpoint.put("mlp." + p + ".weight", RandomTensors.uniform(dtype, ws, rnd));
            if (bias) {
                checkpoint.put("mlp." + p + ".bias", RandomTensors.uniform(dtype, Shape.of(ws.dim(0)), rnd));
            }
        }
        Tensor x = RandomTensors.uniform(DType.F32, xShape, rnd);

        double[] ref = Oracle.mlp(Oracle.decode(x), m, hidden, ffnDim, activation,
                decoded(checkpoint, "mlp.gate_proj.weight"), decoded(checkpoint, "mlp.gate_proj.bias"),
                decoded(checkpoint, "mlp.up_proj.weight"), decoded(checkpoint, "mlp.up_proj.bias"),
                decoded(checkpoint, "mlp.down_proj.weight"), decoded(checkpoint, "mlp.down_proj.bias"));
        try {
            MlpConfig config = MlpConfig.builder(hidden, ffnDim).dtype(dtype).device(device).hasBias(bias)
                    .activation(activation).name("mlp").build();
            MLP layer = MLP.load(config, TensorSource.of(checkpoint));
            Tensor y = Tensor.allocate(DType.F32, xShape, device).fill(Float.NaN);
            layer.forward(x.to(device), y);
            return new CaseResult(this, device, Comparison.of(y.toFloatArray(), ref), Tolerance.F32_ACCUMULATION, null);
        } catch (RuntimeException e) {
            return new CaseResult(this, device, null, Tolerance.F32_ACCUMULATION, e.toString());
        }
    }

    private static double[] decoded(Map<String, Tensor> checkpoint, String key) {
        Tensor t = checkpoint.get(key);
        return t == null ? null : Oracle.decode(t);
    }
}

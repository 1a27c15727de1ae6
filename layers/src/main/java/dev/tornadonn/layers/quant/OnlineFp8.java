package dev.tornadonn.layers.quant;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.DType;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.WeightLoadException;
import dev.tornadonn.core.numeric.Float8Format;
import dev.tornadonn.core.weights.DenseMatrix;
import dev.tornadonn.core.weights.Fp8InputQuantization;
import dev.tornadonn.core.weights.Fp8Matrix;
import dev.tornadonn.core.weights.Fp8WeightScale;
import dev.tornadonn.layers.LinearWeights;
import dev.tornadonn.layers.MlpWeights;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Quantising an unquantised (F32, BF16, F16) checkpoint to fp8 as it loads, as vLLM's
 * {@code --quantization fp8} does for a model without a quantization config
 * ({@code Fp8LinearMethod} with {@code is_checkpoint_fp8_serialized} false, since then
 * {@code Fp8PerTensorOnlineLinearMethod}): {@code scaled_fp8_quant(weight, scale=None)} gives one
 * e4m3fn scale per weight, {@code max|w| / 448} in f32, and codes {@code fp8(w · (1/s))} rounded to
 * nearest even, saturated. A layer vLLM merges is one weight to it, so an MLP's gate and up share
 * one scale (its {@code gate_up_proj}); down has its own. Activations are quantised dynamically to
 * e4m3fn each call: per token where vLLM has CUTLASS (NVIDIA GPUs of compute capability 8.9 and
 * later), per tensor otherwise ({@link #perTensor}).
 *
 * <p>Scales are taken over the whole (unsharded) weight: vLLM quantises each tensor-parallel
 * rank's shard on its own, so with sharding the two differ by that choice of scale.
 *
 * @param input how x is quantised: dynamic per token or per tensor, e4m3fn, no bound
 */
public record OnlineFp8(Fp8InputQuantization.Quantised input) {
    /** The format weights and activations take. */
    public static final Float8Format FORMAT = Float8Format.E4M3FN;

    public OnlineFp8 {
        Objects.requireNonNull(input, "input");
        if (!(input instanceof Fp8InputQuantization.DynamicPerToken || input instanceof Fp8InputQuantization.DynamicPerTensor)
                || input.format() != FORMAT) {
            throw new ConfigException("online fp8 quantises x dynamically to e4m3fn, per token or per tensor; got "
                    + input.describe() + " " + input.format());
        }
    }

    /** vLLM's default where it runs fp8 GEMMs with CUTLASS: x scaled per token. */
    public static OnlineFp8 perToken() {
        return new OnlineFp8(new Fp8InputQuantization.DynamicPerToken(FORMAT, Float.POSITIVE_INFINITY));
    }

    /** vLLM without CUTLASS (torch._scaled_mm, ROCm): one x scale per call. */
    public static OnlineFp8 perTensor() {
        return new OnlineFp8(new Fp8InputQuantization.DynamicPerTensor(FORMAT, Float.POSITIVE_INFINITY));
    }

    /** {@code fp8} (per-token activations) or {@code fp8-per-tensor}, as the command line names them. */
    public static OnlineFp8 parse(String name) {
        return switch (name) {
            case "fp8" -> perToken();
            case "fp8-per-tensor" -> perTensor();
            default -> throw new ConfigException("unknown quantisation '" + name + "'; valid: fp8, fp8-per-tensor");
        };
    }

    /** A dense layer's weight quantised with its own scale, the bias kept. */
    public LinearWeights quantise(LinearWeights dense) {
        return new LinearWeights(dense.name(), quantise(List.of(dense(dense))).getFirst(), dense.bias(), dense.keys());
    }

    /** A dense MLP quantised as vLLM quantises it: gate and up with one scale, down with its own. */
    public MlpWeights quantise(MlpWeights dense) {
        List<Fp8Matrix> gateUp = quantise(List.of(dense(dense.gate()), dense(dense.up())));
        LinearWeights gate = new LinearWeights(dense.gate().name(), gateUp.get(0), dense.gate().bias(), dense.gate().keys());
        LinearWeights up = new LinearWeights(dense.up().name(), gateUp.get(1), dense.up().bias(), dense.up().keys());
        return new MlpWeights(dense.name(), gate, up, quantise(dense.down()));
    }

    /**
     * The blocks quantised with one scale, {@code max|w| / 448} over all of them. A non-finite
     * weight is refused: its scale would be infinite or NaN and every code of the weight wrong.
     */
    public List<Fp8Matrix> quantise(List<DenseMatrix> blocks) {
        float amax = 0f;
        for (DenseMatrix b : blocks) {
            Tensor v = b.values();
            for (long i = 0; i < v.numel(); i++) {
                float a = Math.abs(v.getFloat(i));
                if (!Float.isFinite(a)) {
                    throw new WeightLoadException("a " + b.rows() + " x " + b.cols() + " " + b.dtype() + " weight holds "
                            + v.getFloat(i) + " at element " + i + ": it cannot be quantised to fp8 (its scale would not be finite)");
                }
                amax = Math.max(amax, a);
            }
        }
        float scale = amax / FORMAT.max();
        float inverse = scale == 0f ? 0f : 1f / scale; // an all-zero weight: zero codes, as for a zero input scale
        List<Fp8Matrix> out = new ArrayList<>(blocks.size());
        for (DenseMatrix b : blocks) {
            Tensor v = b.values();
            Tensor codes = Tensor.allocate(DType.F8_E4M3FN, Shape.of(b.rows(), b.cols()));
            for (long i = 0; i < v.numel(); i++) {
                codes.data().set(ValueLayout.JAVA_BYTE, i, FORMAT.fromFloat(v.getFloat(i) * inverse));
            }
            out.add(new Fp8Matrix(b.rows(), b.cols(), FORMAT, codes, new Fp8WeightScale.PerTensor(scale), input));
        }
        return out;
    }

    private static DenseMatrix dense(LinearWeights w) {
        if (!(w.weight() instanceof DenseMatrix d)) {
            throw new ConfigException("online fp8 quantises unquantised weights; '" + w.name() + "' is already "
                    + w.weight().kind() + " (" + w.weight().describe() + ")");
        }
        if (d.clip() != 0) {
            throw new ConfigException("clip_weight applies to unquantised weights; '" + w.name()
                    + "' is quantised to fp8 as it loads");
        }
        return d;
    }
}

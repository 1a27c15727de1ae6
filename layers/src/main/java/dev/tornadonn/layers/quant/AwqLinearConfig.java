package dev.tornadonn.layers.quant;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Weight;
import dev.tornadonn.core.io.TensorSource;
import dev.tornadonn.layers.Keys;
import dev.tornadonn.layers.LinearSpec;
import dev.tornadonn.layers.LinearWeights;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * An AWQ (GEMM layout) linear layer {@code in → out} with AutoAWQ's tensors under {@code name}:
 * {@code qweight} I32 {@code (in, out/8)} and {@code qzeros} I32 {@code (in/group, out/8)}, both
 * packing eight 4-bit values along the output features in AWQ's order, {@code scales}
 * {@code (in/group, out)} and, with {@code hasBias}, {@code bias} {@code (out,)}; scales and bias
 * in {@code scaleDType} (F16 as AutoAWQ writes them). {@code W[n, k] = (q − z)·s}, no +1 on zeros.
 */
public record AwqLinearConfig(int inDim, int outDim, AwqConfig quant, DType scaleDType, DeviceRef device,
                              boolean hasBias, String name) implements LinearSpec {

    public AwqLinearConfig {
        Objects.requireNonNull(quant, "quant");
        Objects.requireNonNull(scaleDType, "scaleDType");
        Objects.requireNonNull(device, "device");
        if (inDim <= 0 || outDim <= 0) {
            throw new ConfigException("inDim and outDim must be positive, got " + inDim + " and " + outDim);
        }
        if (scaleDType != DType.F16 && scaleDType != DType.BF16 && scaleDType != DType.F32) {
            throw new ConfigException("AWQ scales must be F16, BF16 or F32, got " + scaleDType);
        }
        if (outDim % AwqWeights.PACK != 0) {
            throw new ConfigException("AWQ packs eight output features per int32: out_dim " + outDim + " is not a multiple of 8");
        }
        if (inDim % quant.effectiveGroupSize(inDim) != 0) {
            throw new ConfigException("AWQ groups must divide in_dim: " + inDim + " channels in groups of "
                    + quant.groupSize() + " (AutoAWQ and vLLM refuse a partial group too)");
        }
        name = name == null ? "" : name;
    }

    public int groups() {
        return inDim / quant.effectiveGroupSize(inDim);
    }

    public String key(String tensor) {
        return Keys.join(name, tensor);
    }

    /** The tensors the layer reads. */
    public List<Weight> weights() {
        List<Weight> w = new ArrayList<>();
        w.add(new Weight(key("qweight"), DType.I32, Shape.of(inDim, outDim / AwqWeights.PACK), device));
        w.add(new Weight(key("qzeros"), DType.I32, Shape.of(groups(), outDim / AwqWeights.PACK), device));
        w.add(new Weight(key("scales"), scaleDType, Shape.of(groups(), outDim), device));
        if (hasBias) {
            w.add(new Weight(key("bias"), scaleDType, Shape.of(outDim), device));
        }
        return List.copyOf(w);
    }

    /** Reads the layer strictly, then repacks the codes along the input features (GPTQ's order) for the kernels. */
    @Override
    public LinearWeights read(TensorSource source) {
        return AwqWeights.read(this, source);
    }
}

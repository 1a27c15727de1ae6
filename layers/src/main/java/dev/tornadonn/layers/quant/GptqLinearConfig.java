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
 * A GPTQ linear layer {@code in → out} with Hugging Face's tensors under {@code name}:
 * {@code qweight} I32 {@code (in·bits/32, out)}, {@code qzeros} I32 {@code (groups, out·bits/32)},
 * {@code scales} {@code (groups, out)}, optional {@code g_idx} I32 {@code (in,)} (required with
 * act-order) and, with {@code hasBias}, {@code bias} {@code (out,)}; scales and bias in
 * {@code scaleDType} (F16 in GPTQ checkpoints).
 */
public record GptqLinearConfig(int inDim, int outDim, GptqConfig quant, DType scaleDType, DeviceRef device,
                               boolean hasBias, String name) implements LinearSpec {

    public GptqLinearConfig {
        Objects.requireNonNull(quant, "quant");
        Objects.requireNonNull(scaleDType, "scaleDType");
        Objects.requireNonNull(device, "device");
        if (inDim <= 0 || outDim <= 0) {
            throw new ConfigException("inDim and outDim must be positive, got " + inDim + " and " + outDim);
        }
        if (scaleDType != DType.F16 && scaleDType != DType.BF16 && scaleDType != DType.F32) {
            throw new ConfigException("GPTQ scales must be F16, BF16 or F32, got " + scaleDType);
        }
        if ((long) inDim * quant.bits() % 32 != 0) {
            throw new ConfigException("GPTQ packs in_dim·bits into int32 rows: in_dim " + inDim + " × "
                    + quant.bits() + " bits is not a multiple of 32");
        }
        if ((long) outDim * quant.bits() % 32 != 0) {
            throw new ConfigException("GPTQ packs qzeros along out_dim: out_dim " + outDim + " × "
                    + quant.bits() + " bits is not a multiple of 32");
        }
        name = name == null ? "" : name;
    }

    /** Reads the layer strictly: every shape and the packing are checked before anything is kept. */
    @Override
    public LinearWeights read(TensorSource source) {
        return GptqWeights.read(this, source);
    }

    public int groups() {
        return quant.groups(inDim);
    }

    public String key(String tensor) {
        return Keys.join(name, tensor);
    }

    /** The tensors the layer always reads, and g_idx when the checkpoint must have it (act-order). */
    public List<Weight> weights(boolean withGIdx) {
        List<Weight> w = new ArrayList<>();
        w.add(new Weight(key("qweight"), DType.I32, Shape.of(inDim * quant.bits() / 32, outDim), device));
        w.add(new Weight(key("qzeros"), DType.I32, Shape.of(groups(), outDim * quant.bits() / 32), device));
        w.add(new Weight(key("scales"), scaleDType, Shape.of(groups(), outDim), device));
        if (withGIdx || quant.descAct()) {
            w.add(new Weight(key("g_idx"), DType.I32, Shape.of(inDim), device));
        }
        if (hasBias) {
            w.add(new Weight(key("bias"), scaleDType, Shape.of(outDim), device));
        }
        return List.copyOf(w);
    }

    /** A builder with GPTQ checkpoints' defaults: F16 scales, no bias, no name, cpu:0. */
    public static Builder builder(int inDim, int outDim, GptqConfig quant) {
        return new Builder(inDim, outDim, quant);
    }

    public static final class Builder {
        private final int inDim;
        private final int outDim;
        private final GptqConfig quant;
        private DType scaleDType = DType.F16;
        private DeviceRef device = DeviceRef.cpu(0);
        private boolean hasBias;
        private String name = "";

        private Builder(int inDim, int outDim, GptqConfig quant) {
            this.inDim = inDim;
            this.outDim = outDim;
            this.quant = quant;
        }

        public Builder scaleDType(DType v) { this.scaleDType = v; return this; }
        public Builder device(DeviceRef v) { this.device = v; return this; }
        public Builder hasBias(boolean v) { this.hasBias = v; return this; }
        public Builder name(String v) { this.name = v; return this; }

        public GptqLinearConfig build() {
            return new GptqLinearConfig(inDim, outDim, quant, scaleDType, device, hasBias, name);
        }
    }
}

package dev.tornadonn.layers.quant;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.Weight;
import dev.tornadonn.core.WeightLoadException;
import dev.tornadonn.core.io.GgmlType;
import dev.tornadonn.core.io.TensorSource;
import dev.tornadonn.core.weights.GgufBlocks;
import dev.tornadonn.core.weights.GgufMatrix;
import dev.tornadonn.layers.Keys;
import dev.tornadonn.layers.LinearSpec;
import dev.tornadonn.layers.LinearWeights;
import dev.tornadonn.layers.StrictLoader;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * MAX's {@code Linear} with a GGUF {@code quantization_encoding}: {@code name.weight} is the raw
 * blocks of a {@code (outDim, inDim)} weight of {@code type} (Q4_0, Q8_0, Q4_K or Q6_K), as a
 * {@code .gguf} file holds it; an optional {@code name.bias} of {@code biasDType}. Inputs and
 * outputs are f32, the weights decoded exactly. (MAX's CPU kernels quantise x to 8 bits first;
 * here x stays f32, so results are nearer the float64 product, not bit-equal to MAX's.)
 */
public record GgufLinearConfig(int inDim, int outDim, GgmlType type, DType biasDType, DeviceRef device, boolean hasBias,
                               String name) implements LinearSpec {

    public GgufLinearConfig {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(biasDType, "biasDType");
        Objects.requireNonNull(device, "device");
        if (!GgufBlocks.isSupported(type)) {
            throw new ConfigException("GGUF type " + type + " is not supported; supported: Q4_0, Q8_0, Q4_K, Q6_K "
                    + "(and F32, F16, BF16 as dense weights)");
        }
        if (inDim <= 0 || outDim <= 0 || inDim % type.blockSize() != 0) {
            throw new ConfigException("a " + type + " Linear needs positive dimensions and inDim a multiple of "
                    + type.blockSize() + ", got " + inDim + " -> " + outDim);
        }
        name = name == null ? "" : name;
    }

    public static GgufLinearConfig of(int inDim, int outDim, GgmlType type) {
        return new GgufLinearConfig(inDim, outDim, type, DType.F32, DeviceRef.cpu(0), false, "");
    }

    public GgufLinearConfig withName(String v) {
        return new GgufLinearConfig(inDim, outDim, type, biasDType, device, hasBias, v);
    }

    public GgufLinearConfig withBias(boolean v) {
        return new GgufLinearConfig(inDim, outDim, type, biasDType, device, v, name);
    }

    public GgufLinearConfig withDevice(DeviceRef v) {
        return new GgufLinearConfig(inDim, outDim, type, biasDType, v, hasBias, name);
    }

    public String weightKey() {
        return Keys.join(name, "weight");
    }

    public String biasKey() {
        return Keys.join(name, "bias");
    }

    /** The weight as a U8 tensor of its blocks {@code (outDim, rowBytes)}, and the bias. */
    public List<Weight> weights() {
        List<Weight> w = new ArrayList<>();
        w.add(new Weight(weightKey(), DType.U8, Shape.of(outDim, (int) type.rowBytes(inDim)), device));
        if (hasBias) {
            w.add(new Weight(biasKey(), biasDType, Shape.of(outDim), device));
        }
        return List.copyOf(w);
    }

    /** Reads the blocks (a view of the file) and the bias strictly; the source must say the weight is of this type. */
    @Override
    public LinearWeights read(TensorSource source) {
        if (source.contains(weightKey())) {
            GgmlType actual = source.ggmlType(weightKey()).orElse(null);
            if (actual != type) {
                throw new WeightLoadException(source.describe() + ": tensor '" + weightKey() + "' is "
                        + (actual == null ? "not a GGUF tensor" : "GGUF " + actual) + ", expected GGUF " + type);
            }
        }
        Map<String, Tensor> t = StrictLoader.load(source, name, weights());
        return new LinearWeights(name, new GgufMatrix(outDim, inDim, type, t.get(weightKey())), t.get(biasKey()),
                Set.copyOf(weights().stream().map(Weight::name).toList()));
    }

    /** Blocks in hand, checked like loaded ones. */
    public LinearWeights weightsOf(Tensor blocks, Tensor bias) {
        List<Weight> declared = weights();
        declared.get(0).check(blocks);
        if (hasBias != (bias != null)) {
            throw new ConfigException("config says hasBias=" + hasBias + " but bias is " + (bias == null ? "absent" : "present"));
        }
        if (bias != null) {
            declared.get(1).check(bias);
        }
        return new LinearWeights(name, new GgufMatrix(outDim, inDim, type, blocks), bias, Set.of());
    }

    /** A builder: F32 bias dtype, no bias, no name, cpu:0. */
    public static Builder builder(int inDim, int outDim, GgmlType type) {
        return new Builder(inDim, outDim, type);
    }

    public static final class Builder {
        private final int inDim;
        private final int outDim;
        private final GgmlType type;
        private DType biasDType = DType.F32;
        private DeviceRef device = DeviceRef.cpu(0);
        private boolean hasBias;
        private String name = "";

        private Builder(int inDim, int outDim, GgmlType type) {
            this.inDim = inDim;
            this.outDim = outDim;
            this.type = type;
        }

        public Builder biasDType(DType v) { this.biasDType = v; return this; }
        public Builder device(DeviceRef v) { this.device = v; return this; }
        public Builder hasBias(boolean v) { this.hasBias = v; return this; }
        public Builder name(String v) { this.name = v; return this; }

        public GgufLinearConfig build() {
            return new GgufLinearConfig(inDim, outDim, type, biasDType, device, hasBias, name);
        }
    }
}

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
 * A compressed-tensors {@code pack-quantized} linear layer {@code in → out} under {@code name}:
 * {@code weight_packed} I32 {@code (out, ceil(in/f))} with {@code f = 32/bits} codes per int32
 * along the input features, {@code weight_scale} {@code (out, groups)}, {@code weight_shape}
 * {@code (2,)} holding {@code [out, in]}, {@code weight_zero_point} I32 {@code (ceil(out/f), groups)}
 * packed along the outputs (asymmetric only), optional {@code weight_g_idx} I32 {@code (in,)}
 * (activation order), and with {@code hasBias} {@code bias (out,)}. Scales and bias are
 * {@code scaleDType}. Codes and zero points are stored as signed values plus {@code 2^(bits−1)}, so
 * {@code W[n, k] = s · (stored q − stored z)}, a symmetric layer's zero being {@code 2^(bits−1)}.
 */
public record PackQuantizedLinearConfig(int inDim, int outDim, PackQuantizedConfig quant, DType scaleDType,
                                        DeviceRef device, boolean hasBias, String name) implements LinearSpec {

    public PackQuantizedLinearConfig {
        Objects.requireNonNull(quant, "quant");
        Objects.requireNonNull(scaleDType, "scaleDType");
        Objects.requireNonNull(device, "device");
        if (inDim <= 0 || outDim <= 0) {
            throw new ConfigException("inDim and outDim must be positive, got " + inDim + " and " + outDim);
        }
        if (scaleDType != DType.F16 && scaleDType != DType.BF16 && scaleDType != DType.F32) {
            throw new ConfigException("pack-quantized scales must be F16, BF16 or F32, got " + scaleDType);
        }
        name = name == null ? "" : name;
    }

    public int groups() {
        return quant.groups(inDim);
    }

    public String key(String tensor) {
        return Keys.join(name, tensor);
    }

    /**
     * The tensors the layer reads: weight_shape in {@code shapeDType} (compressed-tensors writes
     * I64, its declared I32 is accepted too), and weight_g_idx when the checkpoint has one.
     */
    public List<Weight> weights(DType shapeDType, boolean withGIdx) {
        int f = quant.packFactor();
        List<Weight> w = new ArrayList<>();
        w.add(new Weight(key("weight_packed"), DType.I32, Shape.of(outDim, ceilDiv(inDim, f)), device));
        w.add(new Weight(key("weight_scale"), scaleDType, Shape.of(outDim, groups()), device));
        w.add(new Weight(key("weight_shape"), shapeDType, Shape.of(2), device));
        if (!quant.symmetric()) {
            w.add(new Weight(key("weight_zero_point"), DType.I32, Shape.of(ceilDiv(outDim, f), groups()), device));
        }
        if (withGIdx) {
            w.add(new Weight(key("weight_g_idx"), DType.I32, Shape.of(inDim), device));
        }
        if (hasBias) {
            w.add(new Weight(key("bias"), scaleDType, Shape.of(outDim), device));
        }
        return List.copyOf(w);
    }

    @Override
    public LinearWeights read(TensorSource source) {
        return PackQuantizedWeights.read(this, source);
    }

    /** The {@code [out, in]} a {@code weight_shape} tensor (I64 or I32, (2,)) holds. */
    public static long[] dimensions(dev.tornadonn.core.Tensor weightShape) {
        java.lang.foreign.MemorySegment d = weightShape.data();
        java.nio.ByteOrder le = java.nio.ByteOrder.LITTLE_ENDIAN;
        return weightShape.dtype() == DType.I32
                ? new long[] {d.get(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED.withOrder(le), 0),
                        d.get(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED.withOrder(le), 4)}
                : new long[] {d.get(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED.withOrder(le), 0),
                        d.get(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED.withOrder(le), 8)};
    }

    static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}

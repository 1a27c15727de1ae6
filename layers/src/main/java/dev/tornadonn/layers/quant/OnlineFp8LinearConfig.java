package dev.tornadonn.layers.quant;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.io.TensorSource;
import dev.tornadonn.layers.LinearConfig;
import dev.tornadonn.layers.LinearSpec;
import dev.tornadonn.layers.LinearWeights;
import java.util.Objects;

/**
 * A dense layer read as {@code dense} reads it, then quantised to fp8 by {@code online}. Its
 * output is rounded to the checkpoint's dtype (F32 for F32 weights), as vLLM's fp8 layers give
 * the model's dtype.
 */
public record OnlineFp8LinearConfig(LinearConfig dense, OnlineFp8 online) implements LinearSpec {

    public OnlineFp8LinearConfig {
        Objects.requireNonNull(dense, "dense");
        Objects.requireNonNull(online, "online");
    }

    @Override
    public LinearWeights read(TensorSource source) {
        return online.quantise(dense.read(source));
    }

    @Override
    public DeviceRef device() {
        return dense.device();
    }

    @Override
    public DType outputDType() {
        return dense.dtype();
    }
}

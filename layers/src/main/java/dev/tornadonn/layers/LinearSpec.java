package dev.tornadonn.layers;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.io.TensorSource;

/**
 * What to read for one linear layer and where to run it: {@link LinearConfig} (dense),
 * {@link dev.tornadonn.layers.quant.GptqLinearConfig}, {@link dev.tornadonn.layers.quant.Fp8LinearConfig},
 * {@link dev.tornadonn.layers.quant.Int8LinearConfig} or {@link dev.tornadonn.layers.quant.GgufLinearConfig}.
 */
public interface LinearSpec {

    /** The layer's tensors, read strictly: a missing, unexpected, mis-shaped or mis-typed key fails and reads nothing. */
    LinearWeights read(TensorSource source);

    DeviceRef device();

    /** The dtype the output's values are rounded to (held in an F32 tensor): F32, or BF16 as MAX's fp8 layers give. */
    default DType outputDType() {
        return DType.F32;
    }
}

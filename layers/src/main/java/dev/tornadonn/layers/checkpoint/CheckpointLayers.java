package dev.tornadonn.layers.checkpoint;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.WeightLoadException;
import dev.tornadonn.core.io.Checkpoint;
import dev.tornadonn.core.io.GgmlType;
import dev.tornadonn.core.weights.GgufBlocks;
import dev.tornadonn.layers.quant.GgufLinearConfig;
import dev.tornadonn.core.io.KeyHints;
import dev.tornadonn.core.io.ModelConfig;
import dev.tornadonn.core.io.QuantizationConfig;
import dev.tornadonn.core.io.TensorSource;
import dev.tornadonn.core.weights.WeightKind;
import dev.tornadonn.layers.Keys;
import dev.tornadonn.layers.LinearConfig;
import dev.tornadonn.layers.LinearSpec;
import dev.tornadonn.layers.LinearWeights;
import dev.tornadonn.layers.MlpWeights;
import dev.tornadonn.layers.quant.Float8Config;
import dev.tornadonn.layers.quant.Fp8LinearConfig;
import dev.tornadonn.layers.quant.GptqConfig;
import dev.tornadonn.layers.quant.GptqLinearConfig;
import dev.tornadonn.layers.quant.Int8LinearConfig;
import dev.tornadonn.layers.quant.Int8Scheme;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Layers read from a checkpoint with no description but its tensors and its config: the tensors
 * under a prefix say the format ({@code qweight}: GPTQ; an F8 {@code weight}: FP8; an I8
 * {@code weight}: INT8 W8A8; a GGUF {@code weight} of a block type: that GGUF kind; a float
 * {@code weight}: dense) and the dimensions, dtypes and bias; the quantisation config (the model
 * folder's {@code config.json} or {@code quantize_config.json}, or one given explicitly) says how
 * quantised tensors are to be read. A module the config leaves unconverted is dense whatever the
 * config says, which is how a dense {@code lm_head} sits in a GPTQ model.
 *
 * @param source   the tensors
 * @param quant    the quantisation settings, if any
 * @param config   the model's config, if any (for {@code modules_to_not_convert} and {@code ignore})
 * @param device   where the layers will run
 * @param clip     MAX's {@code clip_weight} for dense layers, 0 for none
 */
public record CheckpointLayers(TensorSource source, Optional<QuantizationConfig> quant, Optional<ModelConfig> config,
                               DeviceRef device, double clip) {
    private static final List<DType> FLOATS = List.of(DType.F32, DType.BF16, DType.F16);

    public CheckpointLayers {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(quant, "quant");
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(device, "device");
    }

    /** A checkpoint with its own config's quantisation settings. */
    public static CheckpointLayers of(Checkpoint checkpoint, DeviceRef device) {
        Optional<ModelConfig> config = checkpoint.config();
        return new CheckpointLayers(checkpoint, config.flatMap(ModelConfig::quantization), config, device, 0);
    }

    /** The same, with {@code quant} overriding the checkpoint's own settings. */
    public CheckpointLayers withQuantization(QuantizationConfig quant) {
        return new CheckpointLayers(source, Optional.of(quant), config, device, clip);
    }

    public CheckpointLayers withClip(double clip) {
        return new CheckpointLayers(source, quant, config, device, clip);
    }

    /** What to read for the linear layer under {@code prefix}: its format, dimensions, dtypes and bias. */
    public LinearSpec linearSpec(String prefix) {
        String qweight = Keys.join(prefix, "qweight");
        String weight = Keys.join(prefix, "weight");
        boolean hasBias = source.contains(Keys.join(prefix, "bias"));
        if (source.contains(qweight)) {
            return gptq(prefix, hasBias);
        }
        if (!source.contains(weight)) {
            throw new WeightLoadException(source.describe() + ": no layer under prefix '" + prefix + "': expected '"
                    + weight + "' (dense or FP8) or '" + qweight + "' (GPTQ)" + KeyHints.didYouMean(weight, source.names())
                    + (source.names().isEmpty() ? " (the checkpoint holds no tensors)" : " (keys: " + abbreviate(source.names()) + ")"));
        }
        Tensor w = source.get(weight); // a view: only the header is read
        if (w.shape().rank() != 2 || w.shape().numel() == 0) {
            throw new WeightLoadException(source.describe() + ": tensor '" + weight + "' has shape " + w.shape()
                    + ", expected (out_dim, in_dim)");
        }
        int out = w.shape().dim(0);
        int in = w.shape().dim(1);
        Optional<GgmlType> ggml = source.ggmlType(weight);
        if (ggml.isPresent() && ggml.get().isQuantized()) {
            return gguf(prefix, weight, ggml.get(), out, hasBias);
        }
        if (w.dtype() == DType.F8_E4M3FN || w.dtype() == DType.F8_E5M2) {
            if (clip != 0) {
                throw new ConfigException("clip_weight applies to unquantised weights only; '" + weight + "' is "
                        + w.dtype());
            }
            return new Fp8LinearConfig(in, out, w.dtype(), float8(prefix), device, hasBias, prefix, 0);
        }
        if (w.dtype() == DType.I8) {
            return int8(prefix, weight, in, out, hasBias);
        }
        if (!FLOATS.contains(w.dtype())) {
            throw new WeightLoadException(source.describe() + ": tensor '" + weight + "' has dtype " + w.dtype()
                    + ", expected F32, BF16 or F16 (dense), F8_E4M3 or F8_E5M2 (FP8), I8 (INT8 W8A8)");
        }
        return new LinearConfig(in, out, w.dtype(), device, hasBias, prefix, clip);
    }

    /** The linear layer under {@code prefix}, read strictly. */
    public LinearWeights linear(String prefix) {
        return linearSpec(prefix).read(source);
    }

    /**
     * The gated MLP under {@code prefix} ({@code gate_proj}, {@code up_proj}, {@code down_proj};
     * Phi-3's fused {@code gate_up_proj} and {@code down_proj}; or llama.cpp's {@code ffn_gate},
     * {@code ffn_up}, {@code ffn_down}), each projection read as {@link #linear} reads it; any other
     * key under the prefix is an error.
     */
    public MlpWeights mlp(String prefix) {
        return MlpWeights.read(source, prefix, this::linear);
    }

    /** The output dtype a layer of this format gives: F32, or the fp8 config's (MAX's BF16). */
    public DType outputDType(String prefix) {
        return linearSpec(prefix).outputDType();
    }

    /** The output dtype of the MLP under {@code prefix}: its down projection's, which every layout has. */
    public DType mlpOutputDType(String prefix) {
        return outputDType(Keys.join(prefix, MlpWeights.projectionNames(source, prefix).get(2)));
    }

    private static String abbreviate(java.util.Collection<String> names) {
        return String.join(", ", names.stream().limit(8).toList()) + (names.size() > 8 ? ", ..." : "");
    }

    /** A GGUF block-quantised weight: its ggml type says the format, its elements the input features. */
    private GgufLinearConfig gguf(String prefix, String weight, GgmlType type, int out, boolean hasBias) {
        if (!GgufBlocks.isSupported(type)) {
            throw new WeightLoadException(source.describe() + ": tensor '" + weight + "' is GGUF " + type
                    + ", which this library does not run (GGUF weights: Q4_0, Q8_0, Q4_K, Q6_K, F32, F16, BF16)");
        }
        if (clip != 0) {
            throw new ConfigException("clip_weight applies to unquantised weights only; '" + weight + "' is GGUF "
                    + type + " (MAX does not support clipping GGUF blocks either)");
        }
        int in = (int) (source.get(weight).shape().dim(1) / type.blockBytes() * type.blockSize());
        String bias = Keys.join(prefix, "bias");
        DType biasDType = hasBias && FLOATS.contains(source.get(bias).dtype()) ? source.get(bias).dtype() : DType.F32;
        return new GgufLinearConfig(in, out, type, biasDType, device, hasBias, prefix);
    }

    /** The weight kind a spec reads. */
    public static WeightKind kind(LinearSpec spec) {
        return switch (spec) {
            case GgufLinearConfig g -> WeightKind.GGUF;
            case GptqLinearConfig g -> WeightKind.GROUP_QUANTIZED;
            case Fp8LinearConfig f -> WeightKind.FP8;
            case Int8LinearConfig i -> WeightKind.INT8;
            default -> WeightKind.DENSE;
        };
    }

    private GptqLinearConfig gptq(String prefix, boolean hasBias) {
        QuantizationConfig q = settings(prefix, "qweight", "gptq");
        GptqConfig gptq = GptqConfig.fromHuggingFace(q);
        String qweightKey = Keys.join(prefix, "qweight");
        Tensor qweight = source.get(qweightKey);
        if (qweight.shape().rank() != 2 || qweight.dtype() != DType.I32) {
            throw new WeightLoadException(source.describe() + ": tensor '" + qweightKey + "' is " + qweight.dtype() + " "
                    + qweight.shape() + ", expected I32 (in_dim·bits/32, out_dim)");
        }
        String gIdxKey = Keys.join(prefix, "g_idx");
        int inDim;
        if (source.contains(gIdxKey) && source.get(gIdxKey).shape().rank() == 1) {
            inDim = source.get(gIdxKey).shape().dim(0);
        } else if ((long) qweight.shape().dim(0) * 32 % gptq.bits() == 0) {
            inDim = qweight.shape().dim(0) * 32 / gptq.bits();
        } else {
            throw new WeightLoadException(source.describe() + ": tensor '" + qweightKey + "' has " + qweight.shape().dim(0)
                    + " rows, which no in_dim packs into at " + gptq.bits() + " bits");
        }
        String scalesKey = Keys.join(prefix, "scales");
        DType scaleDType = source.contains(scalesKey) && FLOATS.contains(source.get(scalesKey).dtype())
                ? source.get(scalesKey).dtype() : DType.F16;
        return new GptqLinearConfig(inDim, qweight.shape().dim(1), gptq, scaleDType, device, hasBias, prefix);
    }

    private Float8Config float8(String prefix) {
        return Float8Config.fromHuggingFace(settings(prefix, "weight", "fp8", "fbgemm_fp8", "compressed-tensors"));
    }

    /** An I8 weight: compressed-tensors' int8 W8A8, read as its config says. */
    private Int8LinearConfig int8(String prefix, String weight, int in, int out, boolean hasBias) {
        if (clip != 0) {
            throw new ConfigException("clip_weight applies to unquantised weights only; '" + weight + "' is I8");
        }
        Int8Scheme scheme = Int8Scheme.fromCompressedTensors(kindSettings(prefix, "weight", "INT8", "compressed-tensors"));
        return new Int8LinearConfig(in, out, scheme, device, hasBias, prefix);
    }

    /** The quantisation settings a quantised tensor needs: present, of a method that packs it so, and not overridden by the config's exclusions. */
    private QuantizationConfig settings(String prefix, String tensor, String... methods) {
        return kindSettings(prefix, tensor, methods[0].equals("gptq") ? "GPTQ-packed" : "FP8", methods);
    }

    /** {@link #settings} for a tensor of the {@code kind} messages name it by. */
    private QuantizationConfig kindSettings(String prefix, String tensor, String kind, String... methods) {
        String key = Keys.join(prefix, tensor);
        QuantizationConfig q = quant.orElseThrow(() -> new WeightLoadException(source.describe() + ": '" + key + "' is "
                + kind + ", but there is no quantization_config to read it with: open the model folder (its config.json) "
                + "or give one (--quant-config)"));
        if (config.isPresent() && config.get().isNotConverted(prefix)) {
            throw new WeightLoadException(source.describe() + ": '" + key + "' is " + kind + ", but the config lists '"
                    + prefix + "' as not converted");
        }
        String method = q.method();
        if (!List.of(methods).contains(method)) {
            throw new WeightLoadException(source.describe() + ": '" + key + "' is " + kind + ", but quantization_config.quant_method is '"
                    + method + "' (expected " + String.join(" or ", methods) + ")");
        }
        return q;
    }
}

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
import dev.tornadonn.layers.quant.AwqConfig;
import dev.tornadonn.layers.quant.AwqLinearConfig;
import dev.tornadonn.layers.quant.OnlineFp8;
import dev.tornadonn.layers.quant.OnlineFp8LinearConfig;
import dev.tornadonn.layers.quant.PackQuantizedConfig;
import dev.tornadonn.layers.quant.PackQuantizedLinearConfig;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Layers read from a checkpoint with no description but its tensors and its config: the tensors
 * under a prefix say the format ({@code qweight}: GPTQ or AWQ, as {@code quant_method} says;
 * {@code weight_packed}: compressed-tensors pack-quantized; an F8 {@code weight}: FP8; an I8
 * {@code weight}: INT8 W8A8; a GGUF {@code weight} of a block type: that GGUF kind; a float
 * {@code weight}: dense) and the dimensions, dtypes and bias; the quantisation config (the model
 * folder's {@code config.json} or {@code quantize_config.json}, or one given explicitly) says how
 * quantised tensors are to be read. A module the config leaves unconverted is dense whatever the
 * config says, which is how a dense {@code lm_head} sits in a GPTQ model. With
 * {@link #withOnlineQuantization}, dense weights are quantised to fp8 as they load ({@link OnlineFp8}).
 *
 * @param source   the tensors
 * @param quant    the quantisation settings, if any
 * @param config   the model's config, if any (for {@code modules_to_not_convert} and {@code ignore})
 * @param device   where the layers will run
 * @param clip     MAX's {@code clip_weight} for dense layers, 0 for none
 * @param online   fp8 quantisation of dense weights at load, if any
 */
public record CheckpointLayers(TensorSource source, Optional<QuantizationConfig> quant, Optional<ModelConfig> config,
                               DeviceRef device, double clip, Optional<OnlineFp8> online) {
    private static final List<DType> FLOATS = List.of(DType.F32, DType.BF16, DType.F16);

    public CheckpointLayers {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(quant, "quant");
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(online, "online");
    }

    /** Without online quantisation. */
    public CheckpointLayers(TensorSource source, Optional<QuantizationConfig> quant, Optional<ModelConfig> config,
                            DeviceRef device, double clip) {
        this(source, quant, config, device, clip, Optional.empty());
    }

    /** A checkpoint with its own config's quantisation settings. */
    public static CheckpointLayers of(Checkpoint checkpoint, DeviceRef device) {
        Optional<ModelConfig> config = checkpoint.config();
        return new CheckpointLayers(checkpoint, config.flatMap(ModelConfig::quantization), config, device, 0);
    }

    /** The same, with {@code quant} overriding the checkpoint's own settings. */
    public CheckpointLayers withQuantization(QuantizationConfig quant) {
        return new CheckpointLayers(source, Optional.of(quant), config, device, clip, online);
    }

    public CheckpointLayers withClip(double clip) {
        return new CheckpointLayers(source, quant, config, device, clip, online);
    }

    /** The same, with dense weights quantised to fp8 as they load; quantised checkpoints are then refused. */
    public CheckpointLayers withOnlineQuantization(OnlineFp8 fp8) {
        return new CheckpointLayers(source, quant, config, device, clip, Optional.of(fp8));
    }

    /** What to read for the linear layer under {@code prefix}: its format, dimensions, dtypes and bias. */
    public LinearSpec linearSpec(String prefix) {
        LinearSpec spec = stored(prefix);
        if (online.isEmpty()) {
            return spec;
        }
        if (!(spec instanceof LinearConfig dense)) {
            throw new ConfigException("online fp8 quantisation (--quantize) takes unquantised weights, but '" + prefix
                    + "' holds " + kind(spec) + " ones");
        }
        if (clip != 0) {
            throw new ConfigException("clip_weight applies to unquantised weights; '" + prefix + "' is quantised to fp8 as it loads");
        }
        return new OnlineFp8LinearConfig(dense, online.get());
    }

    /** The layer as the checkpoint stores it. */
    private LinearSpec stored(String prefix) {
        String qweight = Keys.join(prefix, "qweight");
        String packed = Keys.join(prefix, "weight_packed");
        String weight = Keys.join(prefix, "weight");
        boolean hasBias = source.contains(Keys.join(prefix, "bias"));
        if (source.contains(qweight)) {
            QuantizationConfig q = settings(prefix, "qweight", "gptq", "awq");
            return q.method().equals("awq") ? awq(prefix, q, hasBias) : gptq(prefix, hasBias);
        }
        if (source.contains(packed)) {
            return packQuantized(prefix, hasBias);
        }
        if (!source.contains(weight)) {
            throw new WeightLoadException(source.describe() + ": no layer under prefix '" + prefix + "': expected '"
                    + weight + "' (dense or FP8), '" + qweight + "' (GPTQ or AWQ) or '" + packed
                    + "' (compressed-tensors pack-quantized)" + KeyHints.didYouMean(weight, source.names())
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
     * key under the prefix is an error. Quantised at load, gate and up share one fp8 scale, as
     * vLLM's merged {@code gate_up_proj} does.
     */
    public MlpWeights mlp(String prefix) {
        if (online.isEmpty()) {
            return MlpWeights.read(source, prefix, this::linear);
        }
        return online.get().quantise(MlpWeights.read(source, prefix, p -> ((OnlineFp8LinearConfig) linearSpec(p)).dense().read(source)));
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
            case AwqLinearConfig a -> WeightKind.GROUP_QUANTIZED;
            case PackQuantizedLinearConfig p -> WeightKind.GROUP_QUANTIZED;
            case Fp8LinearConfig f -> WeightKind.FP8;
            case Int8LinearConfig i -> WeightKind.INT8;
            case OnlineFp8LinearConfig o -> WeightKind.FP8;
            default -> WeightKind.DENSE;
        };
    }

    /** An AWQ GEMM layer: qweight (in, out/8) gives both dimensions. */
    private AwqLinearConfig awq(String prefix, QuantizationConfig q, boolean hasBias) {
        AwqConfig awq = AwqConfig.fromHuggingFace(q);
        String qweightKey = Keys.join(prefix, "qweight");
        Tensor qweight = source.get(qweightKey);
        if (qweight.shape().rank() != 2 || qweight.dtype() != DType.I32 || qweight.shape().numel() == 0) {
            throw new WeightLoadException(source.describe() + ": tensor '" + qweightKey + "' is " + qweight.dtype() + " "
                    + qweight.shape() + ", expected I32 (in_dim, out_dim/8) as AWQ's GEMM layout packs it");
        }
        try {
            return new AwqLinearConfig(qweight.shape().dim(0), qweight.shape().dim(1) * 8, awq,
                    floatDType(Keys.join(prefix, "scales"), DType.F16), device, hasBias, prefix);
        } catch (ConfigException e) { // most likely another format's qweight under an awq config
            throw new WeightLoadException(source.describe() + ": tensor '" + qweightKey + "' " + qweight.shape()
                    + " read as AWQ's GEMM layout (in_dim, out_dim/8), as quant_method awq says: " + e.getMessage());
        }
    }

    /** A compressed-tensors pack-quantized layer: weight_shape holds [out, in]. */
    private PackQuantizedLinearConfig packQuantized(String prefix, boolean hasBias) {
        PackQuantizedConfig pq = PackQuantizedConfig.fromHuggingFace(settings(prefix, "weight_packed", "compressed-tensors"));
        String shapeKey = Keys.join(prefix, "weight_shape");
        if (!source.contains(shapeKey)) {
            throw new WeightLoadException(source.describe() + ": '" + Keys.join(prefix, "weight_packed") + "' has no '"
                    + shapeKey + "' beside it: a pack-quantized layer stores its [out, in] there");
        }
        Tensor shape = source.get(shapeKey);
        if (shape.shape().rank() != 1 || shape.shape().dim(0) != 2 || (shape.dtype() != DType.I64 && shape.dtype() != DType.I32)) {
            throw new WeightLoadException(source.describe() + ": tensor '" + shapeKey + "' is " + shape.dtype() + " "
                    + shape.shape() + ", expected I64 or I32 (2,) holding [out_dim, in_dim]");
        }
        long[] dims = PackQuantizedLinearConfig.dimensions(shape);
        long out = dims[0];
        long in = dims[1];
        if (out <= 0 || in <= 0 || out > Integer.MAX_VALUE || in > Integer.MAX_VALUE) {
            throw new WeightLoadException(source.describe() + ": tensor '" + shapeKey + "' holds [" + out + ", " + in
                    + "], not a weight's positive [out_dim, in_dim]");
        }
        return new PackQuantizedLinearConfig((int) in, (int) out, pq, floatDType(Keys.join(prefix, "weight_scale"), DType.BF16),
                device, hasBias, prefix);
    }

    /** The dtype of {@code key} when it is a float tensor, else {@code fallback} (the reader then names the mismatch). */
    private DType floatDType(String key, DType fallback) {
        return source.contains(key) && FLOATS.contains(source.get(key).dtype()) ? source.get(key).dtype() : fallback;
    }

    private GptqLinearConfig gptq(String prefix, boolean hasBias) {
        QuantizationConfig q = settings(prefix, "qweight", "gptq", "awq");
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
        String kind = switch (tensor) {
            case "qweight" -> "GPTQ- or AWQ-packed";
            case "weight_packed" -> "compressed-tensors pack-quantized";
            default -> "FP8";
        };
        return kindSettings(prefix, tensor, kind, methods);
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

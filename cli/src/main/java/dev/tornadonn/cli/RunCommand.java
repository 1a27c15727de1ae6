package dev.tornadonn.cli;

import dev.tornadonn.core.Activation;
import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.TornadoNnException;
import dev.tornadonn.core.WeightLoadException;
import dev.tornadonn.core.io.KeyHints;
import dev.tornadonn.core.io.SafeOutput;
import dev.tornadonn.core.io.SafetensorsFile;
import dev.tornadonn.core.io.SafetensorsWriter;
import dev.tornadonn.core.io.TensorInfo;
import com.fasterxml.jackson.databind.JsonNode;
import dev.tornadonn.layers.Keys;
import dev.tornadonn.layers.Layer;
import dev.tornadonn.layers.quant.Float8Config;
import dev.tornadonn.layers.quant.Fp8Linear;
import dev.tornadonn.layers.quant.Fp8LinearConfig;
import dev.tornadonn.layers.quant.GptqConfig;
import dev.tornadonn.layers.quant.GptqLinear;
import dev.tornadonn.layers.quant.GptqLinearConfig;
import dev.tornadonn.layers.quant.QuantConfigs;
import dev.tornadonn.layers.quant.QuantizedMlp;
import dev.tornadonn.parallel.ColumnParallelLinear;
import dev.tornadonn.parallel.DistributedGemmConfig;
import dev.tornadonn.parallel.Communicator;
import dev.tornadonn.parallel.Communicators;
import dev.tornadonn.parallel.RowParallelLinear;
import dev.tornadonn.parallel.TensorParallelMlp;
import dev.tornadonn.layers.Linear;
import dev.tornadonn.layers.LinearConfig;
import dev.tornadonn.layers.MLP;
import dev.tornadonn.layers.MlpConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Runs one layer on a checkpoint: dimensions, dtypes and bias presence come from the weights
 * file; the input file holds {@code x}; the output file gets {@code y} as F32.
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Run a layer: y = layer(x), weights and x from safetensors files, y written as F32.")
final class RunCommand implements Callable<Integer> {
    private static final List<String> LAYERS = List.of("linear", "mlp", "gptq-linear", "fp8-linear", "column-parallel-linear", "row-parallel-linear");
    private static final List<DType> FLOAT_DTYPES = List.of(DType.F32, DType.BF16, DType.F16);

    @Spec
    CommandSpec spec;

    @Option(names = "--layer", required = true, description = "Layer: ${COMPLETION-CANDIDATES}.", completionCandidates = LayerNames.class)
    String layer;

    @Option(names = "--weights", required = true, description = "Checkpoint (.safetensors) holding the layer's tensors.")
    Path weights;

    @Option(names = "--prefix", defaultValue = "", description = "Key prefix, e.g. model.layers.0.mlp (default: none).")
    String prefix;

    @Option(names = "--input", required = true, description = "Safetensors file holding the input tensor 'x'.")
    Path input;

    @Option(names = "--output", required = true, description = "Safetensors file to write the output tensor 'y' (F32) to.")
    Path output;

    @Option(names = "--device", defaultValue = "cpu", description = "Device: cpu, cpu:N or gpu:N (default: ${DEFAULT-VALUE}); "
            + "a comma-separated list for the parallel layers and --tensor-parallel, e.g. cpu:0,cpu:1,cpu:2.")
    String device;

    @Option(names = "--tensor-parallel", description = "With --layer mlp: shard it over the --device list (gate/up by the "
            + "intermediate size, down by its input) and all-reduce; LLAMA_ENABLE_DIST_GEMM_KERNELS picks the fused path.")
    boolean tensorParallel;

    @Option(names = "--activation", description = "MLP activation (default: silu): silu, gelu, gelu_tanh, relu, tanh, sigmoid, quick_gelu.")
    String activation;

    @Option(names = "--quant-config", description = "Hugging Face config.json (or its quantization_config alone) for quantised layers; with --layer mlp it quantises gate, up and down alike.")
    Path quantConfig;

    @Option(names = "--clip-weight", defaultValue = "0", description = "Clamp weights to [-C, C]; 0 means off (default).")
    double clipWeight;

    static final class LayerNames implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return LAYERS.iterator();
        }
    }

    @Override
    public Integer call() {
        List<DeviceRef> devices = DeviceRef.parseList(device);
        DeviceRef dev = devices.get(0);
        // Before any work: --output may not be a device, FIFO or directory, nor any of the inputs.
        SafeOutput.check(output, java.util.Arrays.asList(weights, input, quantConfig));
        if (!LAYERS.contains(layer)) {
            throw new IllegalArgumentException("unknown layer '" + layer + "'; valid: " + String.join(", ", LAYERS));
        }
        boolean parallel = layer.endsWith("-parallel-linear") || tensorParallel;
        if (tensorParallel && !layer.equals("mlp")) {
            throw new IllegalArgumentException("--tensor-parallel applies to --layer mlp; linear layers have "
                    + "column-parallel-linear and row-parallel-linear");
        }
        if (devices.size() > 1 && !parallel) {
            throw new IllegalArgumentException("--device lists " + devices.size() + " devices, but --layer " + layer
                    + " runs on one; use column-parallel-linear, row-parallel-linear or mlp --tensor-parallel");
        }
        if (activation != null && !layer.equals("mlp")) {
            throw new IllegalArgumentException("--activation applies to --layer mlp only");
        }
        Activation act = Activation.fromName(activation == null ? "silu" : activation);
        long start = System.nanoTime();
        Tensor y;
        String described;
        try (SafetensorsFile w = SafetensorsFile.open(weights);
             SafetensorsFile in = SafetensorsFile.open(input)) {
            Tensor x = inputTensor(in);
            if (parallel) {
                y = runParallel(w, devices, act, x);
                described = layer + (tensorParallel ? " (tensor-parallel)" : "") + " over " + devices + ", " + communicatorNote
                        + ": x " + x.shape() + " " + x.dtype() + " -> y " + y.shape() + " F32";
            } else {
                Layer l = build(w, dev, act);
                y = l.forward(x.to(dev));
                described = l + ": x " + x.shape() + " " + x.dtype() + " -> y " + y.shape() + " F32";
            }
        }
        SafetensorsWriter.write(output, Map.of("y", y.to(DeviceRef.cpu(0))));
        PrintWriter out = spec.commandLine().getOut();
        out.printf("%s in %.1f ms, written to %s%n", described, (System.nanoTime() - start) / 1e6, output);
        return 0;
    }

    private String communicatorNote = "";

    /** The layer loaded whole on the first device, sharded by the parallel wrapper, joined by the communicator the devices call for. */
    private Tensor runParallel(SafetensorsFile w, List<DeviceRef> devices, Activation act, Tensor x) {
        if (quantConfig != null) {
            throw new IllegalArgumentException("the parallel layers take unquantised weights for now; drop --quant-config");
        }
        Communicators.Choice choice = Communicators.choose(devices);
        communicatorNote = choice.communicator().name() + " communicator (" + choice.reason() + ")";
        Communicator comm = choice.communicator();
        return switch (layer) {
            case "column-parallel-linear" -> ColumnParallelLinear.of(linear(w, devices.get(0)), devices, comm).forward(x);
            case "row-parallel-linear" -> RowParallelLinear.of(linear(w, devices.get(0)), devices, comm, false, true).forward(x);
            default -> {
                TensorParallelMlp tp = TensorParallelMlp.of(mlp(w, devices.get(0), act), devices, comm);
                yield tp.forward(devices.stream().map(x::to).toList(), DistributedGemmConfig.generate()).get(0);
            }
        };
    }

    private Layer build(SafetensorsFile w, DeviceRef dev, Activation act) {
        JsonNode quant = quantConfig == null ? null : QuantConfigs.read(quantConfig);
        if (quant != null && clipWeight != 0) {
            throw new IllegalArgumentException("--clip-weight applies to unquantised weights only");
        }
        return switch (layer) {
            case "linear" -> {
                if (quant != null) {
                    throw new IllegalArgumentException("--quant-config needs a quantised layer: gptq-linear, fp8-linear or mlp");
                }
                yield linear(w, dev);
            }
            case "mlp" -> quant == null ? mlp(w, dev, act)
                    : QuantizedMlp.load(prefix, act, w, p -> quantized(w, p, dev, quant));
            default -> {
                if (quant == null) {
                    throw new IllegalArgumentException("--layer " + layer + " needs --quant-config");
                }
                yield quantized(w, prefix, dev, quant);
            }
        };
    }

    /** A quantised projection under {@code p}, of the kind the config's quant_method names. */
    private Layer quantized(SafetensorsFile w, String p, DeviceRef dev, JsonNode quant) {
        String method = QuantConfigs.method(quant);
        String wanted = layer.equals("mlp") ? null : layer;
        return switch (method) {
            case "gptq" -> {
                if (wanted != null && !wanted.equals("gptq-linear")) {
                    throw new IllegalArgumentException("--layer " + layer + " does not take quant_method 'gptq'; use gptq-linear");
                }
                yield gptq(w, p, dev, GptqConfig.fromHuggingFace(quant));
            }
            case "fp8", "fbgemm_fp8", "compressed-tensors" -> {
                if (wanted != null && !wanted.equals("fp8-linear")) {
                    throw new IllegalArgumentException("--layer " + layer + " does not take quant_method '" + method + "'; use fp8-linear");
                }
                yield fp8(w, p, dev, Float8Config.fromHuggingFace(quant));
            }
            default -> throw new IllegalArgumentException("unsupported quant_method '" + method
                    + "'; supported: gptq, fp8, fbgemm_fp8, compressed-tensors");
        };
    }

    private GptqLinear gptq(SafetensorsFile w, String p, DeviceRef dev, GptqConfig q) {
        String qweightKey = Keys.join(p, "qweight");
        TensorInfo qweight = required(w, qweightKey, "(in_dim·bits/32, out_dim)", List.of(DType.I32));
        TensorInfo gIdx = w.info(Keys.join(p, "g_idx"));
        int inDim;
        if (gIdx != null && gIdx.shape().rank() == 1) {
            inDim = gIdx.shape().dim(0);
        } else if (qweight.shape().dim(0) * 32 % q.bits() == 0) {
            inDim = qweight.shape().dim(0) * 32 / q.bits();
        } else {
            throw new WeightLoadException(w.path() + ": tensor '" + qweightKey + "' has " + qweight.shape().dim(0)
                    + " rows, which no in_dim packs into at " + q.bits() + " bits");
        }
        TensorInfo scales = w.info(Keys.join(p, "scales"));
        DType scaleDType = scales != null && FLOAT_DTYPES.contains(scales.dtype()) ? scales.dtype() : DType.F16;
        GptqLinearConfig config = new GptqLinearConfig(inDim, qweight.shape().dim(1), q, scaleDType, dev,
                w.info(Keys.join(p, "bias")) != null, p);
        return GptqLinear.load(config, w);
    }

    private Fp8Linear fp8(SafetensorsFile w, String p, DeviceRef dev, Float8Config f8) {
        TensorInfo weight = required(w, Keys.join(p, "weight"), "(out_dim, in_dim)", List.of(DType.F8_E4M3FN, DType.F8_E5M2));
        Fp8LinearConfig config = Fp8LinearConfig.of(weight.shape().dim(1), weight.shape().dim(0), weight.dtype(), f8)
                .withName(p).withDevice(dev).withBias(w.info(Keys.join(p, "bias")) != null);
        return Fp8Linear.load(config, w);
    }

    private Linear linear(SafetensorsFile w, DeviceRef dev) {
        LinearConfig probe = LinearConfig.builder(1, 1).name(prefix).build();
        TensorInfo weight = required(w, probe.weightKey(), "(out_dim, in_dim)", FLOAT_DTYPES);
        LinearConfig config = LinearConfig.builder(weight.shape().dim(1), weight.shape().dim(0))
                .dtype(weight.dtype()).device(dev).name(prefix).hasBias(w.info(probe.biasKey()) != null)
                .clipWeight(clipWeight).build();
        return Linear.load(config, w);
    }

    private MLP mlp(SafetensorsFile w, DeviceRef dev, Activation act) {
        MlpConfig probe = MlpConfig.builder(1, 1).name(prefix).build();
        TensorInfo gate = required(w, probe.gateProj().weightKey(), "(intermediate, hidden)", FLOAT_DTYPES);
        MlpConfig config = MlpConfig.builder(gate.shape().dim(1), gate.shape().dim(0))
                .dtype(gate.dtype()).device(dev).name(prefix).activation(act)
                .hasBias(w.info(probe.gateProj().biasKey()) != null).clipWeight(clipWeight).build();
        return MLP.load(config, w);
    }

    /** The tensor that fixes a layer's dimensions and dtype: present, rank 2, of a dtype the layer takes. */
    private static TensorInfo required(SafetensorsFile file, String key, String layout, List<DType> dtypes) {
        TensorInfo t = file.info(key);
        if (t == null) {
            throw new WeightLoadException(file.path() + ": missing key '" + key + "'" + KeyHints.didYouMean(key, file.names())
                    + (file.names().isEmpty() ? " (the file holds no tensors)" : " (keys: " + abbreviate(file.names()) + ")"));
        }
        if (t.shape().rank() != 2 || t.shape().numel() == 0) {
            throw new WeightLoadException(file.path() + ": tensor '" + key + "' has shape " + t.shape() + ", expected " + layout);
        }
        if (!dtypes.contains(t.dtype())) {
            throw new WeightLoadException(file.path() + ": tensor '" + key + "' has dtype " + t.dtype()
                    + ", expected " + String.join(" or ", dtypes.stream().map(DType::name).toList()));
        }
        return t;
    }

    private static Tensor inputTensor(SafetensorsFile in) {
        TensorInfo x = in.info("x");
        if (x == null) {
            throw new TornadoNnException(in.path() + ": missing input tensor 'x'" + KeyHints.didYouMean("x", in.names()));
        }
        if (!FLOAT_DTYPES.contains(x.dtype())) {
            throw new TornadoNnException(in.path() + ": input 'x' has dtype " + x.dtype() + ", expected F32, BF16 or F16");
        }
        return in.get("x");
    }

    private static String abbreviate(java.util.Collection<String> names) {
        return names.stream().limit(8).reduce((a, b) -> a + ", " + b).orElse("") + (names.size() > 8 ? ", ..." : "");
    }
}

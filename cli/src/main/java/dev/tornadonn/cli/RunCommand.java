package dev.tornadonn.cli;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.Activation;
import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.TornadoNnException;
import dev.tornadonn.core.io.Checkpoint;
import dev.tornadonn.core.io.KeyHints;
import dev.tornadonn.core.io.QuantizationConfig;
import dev.tornadonn.core.io.SafeOutput;
import dev.tornadonn.core.io.SafetensorsFile;
import dev.tornadonn.core.io.SafetensorsWriter;
import dev.tornadonn.core.io.TensorInfo;
import dev.tornadonn.core.weights.WeightKind;
import dev.tornadonn.layers.Layer;
import dev.tornadonn.layers.Linear;
import dev.tornadonn.layers.LinearSpec;
import dev.tornadonn.layers.MLP;
import dev.tornadonn.layers.checkpoint.CheckpointLayers;
import dev.tornadonn.layers.quant.OnlineFp8;
import dev.tornadonn.parallel.ColumnParallelLinear;
import dev.tornadonn.parallel.Communicator;
import dev.tornadonn.parallel.Communicators;
import dev.tornadonn.parallel.DistributedGemmConfig;
import dev.tornadonn.parallel.RowParallelLinear;
import dev.tornadonn.parallel.TensorParallelMlp;
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
 * Runs one layer on a checkpoint: its format, dimensions, dtypes and bias presence come from the
 * tensors under the prefix and the checkpoint's config ({@link CheckpointLayers}); the input file
 * holds {@code x}; the output file gets {@code y} as F32. Only the command line lives here.
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Run a layer: y = layer(x), weights and x from safetensors files, y written as F32.")
final class RunCommand implements Callable<Integer> {
    private static final List<String> LAYERS = List.of("linear", "mlp", "gptq-linear", "fp8-linear", "int8-linear",
            "column-parallel-linear", "row-parallel-linear");
    private static final List<DType> FLOAT_DTYPES = List.of(DType.F32, DType.BF16, DType.F16);

    @Spec
    CommandSpec spec;

    @Option(names = "--layer", required = true, description = "Layer: ${COMPLETION-CANDIDATES}.", completionCandidates = LayerNames.class)
    String layer;

    @Option(names = "--weights", required = true, description = "Checkpoint: a .safetensors file, a Hugging Face model folder "
            + "(model.safetensors or its index and shards, config.json), or a llama.cpp .gguf file.")
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

    @Option(names = "--quant-config", description = "Hugging Face config.json (or its quantization_config alone) for quantised layers; "
            + "overrides the model folder's own config.")
    Path quantConfig;

    @Option(names = "--quantize", description = "Quantise unquantised (F32/BF16/F16) weights as they load, as vLLM's "
            + "--quantization fp8 does: fp8 (e4m3fn weights, one scale each; x per token, vLLM with CUTLASS) or "
            + "fp8-per-tensor (x per tensor).")
    String quantize;

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
            throw new ConfigException("unknown layer '" + layer + "'; valid: " + String.join(", ", LAYERS));
        }
        boolean parallel = layer.endsWith("-parallel-linear") || tensorParallel;
        if (tensorParallel && !layer.equals("mlp")) {
            throw new ConfigException("--tensor-parallel applies to --layer mlp; linear layers have "
                    + "column-parallel-linear and row-parallel-linear");
        }
        if (devices.size() > 1 && !parallel) {
            throw new ConfigException("--device lists " + devices.size() + " devices, but --layer " + layer
                    + " runs on one; use column-parallel-linear, row-parallel-linear or mlp --tensor-parallel");
        }
        if (activation != null && !layer.equals("mlp")) {
            throw new ConfigException("--activation applies to --layer mlp only");
        }
        Activation act = Activation.fromName(activation == null ? "silu" : activation);
        long start = System.nanoTime();
        Tensor y;
        String described;
        try (Checkpoint w = Checkpoint.open(weights);
             SafetensorsFile in = SafetensorsFile.open(input)) {
            CheckpointLayers layers = CheckpointLayers.of(w, dev).withClip(clipWeight);
            if (quantConfig != null) {
                layers = layers.withQuantization(QuantizationConfig.read(quantConfig));
            }
            if (quantize != null) {
                layers = layers.withOnlineQuantization(OnlineFp8.parse(quantize));
            }
            Tensor x = inputTensor(in);
            if (parallel) {
                y = runParallel(layers, devices, act, x);
                described = layer + (tensorParallel ? " (tensor-parallel)" : "") + " over " + devices + ", " + communicatorNote
                        + ": x " + x.shape() + " " + x.dtype() + " -> y " + y.shape() + " F32";
            } else {
                Layer l = build(layers, dev, act);
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

    /** The weights cut per device before anything is prepared, the shards joined by the communicator the devices call for. */
    private Tensor runParallel(CheckpointLayers layers, List<DeviceRef> devices, Activation act, Tensor x) {
        Communicators.Choice choice = Communicators.choose(devices);
        communicatorNote = choice.communicator().name() + " communicator (" + choice.reason() + ")";
        Communicator comm = choice.communicator();
        return switch (layer) {
            case "column-parallel-linear" -> ColumnParallelLinear.of(layers.linear(prefix), devices, comm).forward(x);
            case "row-parallel-linear" -> RowParallelLinear.of(layers.linear(prefix), devices, comm, false, true).forward(x);
            default -> {
                TensorParallelMlp tp = TensorParallelMlp.of(layers.mlp(prefix), act, devices, comm);
                yield tp.forward(devices.stream().map(x::to).toList(), DistributedGemmConfig.generate()).get(0);
            }
        };
    }

    /**
     * {@code linear} and {@code mlp} take any format; {@code gptq-linear}, {@code fp8-linear} and
     * {@code int8-linear} insist on theirs, so that a mislabelled checkpoint is an error rather
     * than another layer.
     */
    private Layer build(CheckpointLayers layers, DeviceRef dev, Activation act) {
        if (layer.equals("mlp")) {
            return MLP.of(layers.mlp(prefix), act, dev, layers.mlpOutputDType(prefix));
        }
        LinearSpec spec = layers.linearSpec(prefix);
        WeightKind kind = CheckpointLayers.kind(spec);
        WeightKind wanted = switch (layer) {
            case "gptq-linear" -> WeightKind.GROUP_QUANTIZED;
            case "fp8-linear" -> WeightKind.FP8;
            case "int8-linear" -> WeightKind.INT8;
            default -> kind;
        };
        if (kind != wanted) {
            throw new ConfigException("--layer " + layer + " reads " + wanted + " weights, but '" + prefix
                    + "' holds " + kind + " ones; --layer linear takes any format");
        }
        return Linear.load(spec, layers.source());
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
}

package dev.tornadonn.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tornadonn.core.Activation;
import dev.tornadonn.core.DType;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.io.SafetensorsFile;
import dev.tornadonn.core.io.SafetensorsWriter;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.layers.quant.GptqConfig;
import dev.tornadonn.layers.quant.GptqFormat;
import dev.tornadonn.layers.quant.GptqLinearConfig;
import dev.tornadonn.layers.quant.GptqPacker;
import dev.tornadonn.reference.Comparison;
import dev.tornadonn.core.numeric.Float8Format;
import dev.tornadonn.layers.quant.Float8InputScaleSpec;
import dev.tornadonn.layers.quant.Float8WeightScaleSpec;
import dev.tornadonn.reference.Fp8Oracle;
import dev.tornadonn.reference.GptqOracle;
import dev.tornadonn.reference.Int8Oracle;
import dev.tornadonn.layers.quant.Int8Scheme;
import dev.tornadonn.reference.Oracle;
import dev.tornadonn.reference.RandomTensors;
import dev.tornadonn.reference.Tolerance;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CommandLineTest {
    private static final long SEED = System.nanoTime();

    static {
        System.out.println("CommandLineTest seed " + SEED);
    }

    @TempDir
    Path dir;

    private static CliRun run(String... args) {
        return CliRun.of(args);
    }

    private Path write(String name, Map<String, Tensor> tensors) {
        Path p = dir.resolve(name);
        SafetensorsWriter.write(p, tensors);
        return p;
    }

    private static float[] readY(Path p) {
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(DType.F32, f.get("y").dtype());
            return f.get("y").toFloatArray();
        }
    }

    @Test
    void runLinearWithPrefixBiasClipAndRank3Input() {
        SplittableRandom rnd = new SplittableRandom(SEED);
        Tensor w = RandomTensors.uniform(DType.F16, Shape.of(33, 20), rnd);
        Tensor b = RandomTensors.uniform(DType.F16, Shape.of(33), rnd);
        Tensor x = RandomTensors.uniform(DType.BF16, Shape.of(2, 3, 20), rnd);
        Map<String, Tensor> ckpt = new LinkedHashMap<>();
        ckpt.put("lm.proj.weight", w);
        ckpt.put("lm.proj.bias", b);
        ckpt.put("lm.other.weight", w);
        Path wf = write("w.safetensors", ckpt);
        Path xf = write("x.safetensors", Map.of("x", x));
        Path yf = dir.resolve("y.safetensors");
        CliRun r = run("run", "--layer", "linear", "--weights", wf.toString(), "--prefix", "lm.proj",
                "--input", xf.toString(), "--output", yf.toString(), "--clip-weight", "0.25", "--device", "cpu:1");
        assertEquals(0, r.code(), r.err());
        try (SafetensorsFile f = SafetensorsFile.open(yf)) {
            assertEquals(Shape.of(2, 3, 33), f.get("y").shape());
        }
        double[] ref = Oracle.linear(Oracle.decode(x), 6, 20, Oracle.clip(Oracle.decode(w), DType.F16.round(0.25f)), 33,
                Oracle.decode(b));
        Comparison c = Comparison.of(readY(yf), ref);
        assertTrue(c.within(Tolerance.F32_ACCUMULATION), c::toString);
    }

    @Test
    void runMlpWithEveryActivation() {
        SplittableRandom rnd = new SplittableRandom(SEED + 1);
        Map<String, Tensor> ckpt = new LinkedHashMap<>();
        ckpt.put("gate_proj.weight", RandomTensors.uniform(DType.BF16, Shape.of(24, 16), rnd));
        ckpt.put("up_proj.weight", RandomTensors.uniform(DType.BF16, Shape.of(24, 16), rnd));
        ckpt.put("down_proj.weight", RandomTensors.uniform(DType.BF16, Shape.of(16, 24), rnd));
        Tensor x = RandomTensors.uniform(DType.F32, Shape.of(16), rnd);
        Path wf = write("mlp.safetensors", ckpt);
        Path xf = write("x.safetensors", Map.of("x", x));
        for (Activation act : Activation.values()) {
            Path yf = dir.resolve("y-" + act + ".safetensors");
            CliRun r = run("run", "--layer", "mlp", "--weights", wf.toString(), "--input", xf.toString(),
                    "--output", yf.toString(), "--activation", act.configName());
            assertEquals(0, r.code(), r.err());
            double[] ref = Oracle.mlp(Oracle.decode(x), 1, 16, 24, act, Oracle.decode(ckpt.get("gate_proj.weight")), null,
                    Oracle.decode(ckpt.get("up_proj.weight")), null, Oracle.decode(ckpt.get("down_proj.weight")), null);
            Comparison c = Comparison.of(readY(yf), ref);
            assertTrue(c.within(Tolerance.F32_ACCUMULATION), () -> act + ": " + c);
        }
    }

    @Test
    void runGptqLinearAndAGptqMlpFromAHuggingFaceConfig() throws IOException {
        SplittableRandom rnd = new SplittableRandom(SEED + 3);
        GptqConfig q = new GptqConfig(4, 32, true, false, GptqFormat.GPTQ);
        Path config = dir.resolve("config.json");
        Files.writeString(config, "{\"quantization_config\": {\"quant_method\": \"gptq\", \"bits\": 4, \"group_size\": 32,"
                + " \"desc_act\": true, \"sym\": false}}");
        Map<String, Tensor> ckpt = new LinkedHashMap<>();
        int hidden = 64, ffn = 96;
        for (String p : new String[] {"gate_proj", "up_proj", "down_proj"}) {
            int in = p.equals("down_proj") ? ffn : hidden;
            int out = p.equals("down_proj") ? hidden : ffn;
            GptqLinearConfig c = new GptqLinearConfig(in, out, q, DType.F16, DeviceRef.cpu(0), false, "mlp." + p);
            int[] groups = new int[in];
            for (int i = 0; i < in; i++) {
                groups[i] = (i * 7 % in) / 32; // an act-order assignment: 7 is coprime with 64 and 96
            }
            ckpt.putAll(GptqPacker.pack(RandomTensors.uniform(DType.F32, Shape.of(out, in), rnd).toFloatArray(), c, groups));
        }
        Path wf = write("gptq.safetensors", ckpt);
        Tensor x = RandomTensors.uniform(DType.F32, Shape.of(2, hidden), rnd);
        Path xf = write("x.safetensors", Map.of("x", x));
        Path yf = dir.resolve("y.safetensors");
        CliRun r = run("run", "--layer", "gptq-linear", "--weights", wf.toString(), "--prefix", "mlp.up_proj",
                "--input", xf.toString(), "--output", yf.toString(), "--quant-config", config.toString());
        assertEquals(0, r.code(), r.err());
        double[] up = gptqWeights(ckpt, "mlp.up_proj", q);
        Comparison c = Comparison.of(readY(yf), Oracle.linear(Oracle.decode(x), 2, hidden, up, ffn, null));
        assertTrue(c.within(Tolerance.F32_ACCUMULATION), c::toString);

        r = run("run", "--layer", "mlp", "--weights", wf.toString(), "--prefix", "mlp", "--activation", "gelu",
                "--input", xf.toString(), "--output", yf.toString(), "--quant-config", config.toString());
        assertEquals(0, r.code(), r.err());
        double[] ref = Oracle.mlp(Oracle.decode(x), 2, hidden, ffn, Activation.GELU, gptqWeights(ckpt, "mlp.gate_proj", q), null,
                up, null, gptqWeights(ckpt, "mlp.down_proj", q), null);
        Comparison cm = Comparison.of(readY(yf), ref);
        assertTrue(cm.within(Tolerance.F32_ACCUMULATION), cm::toString);

        assertOneLineError(run("run", "--layer", "gptq-linear", "--weights", wf.toString(), "--prefix", "mlp.up_proj",
                "--input", xf.toString(), "--output", yf.toString()), "no quantization_config to read it with");
        Files.writeString(config, "{\"quant_method\": \"awq\", \"bits\": 4}");
        assertOneLineError(run("run", "--layer", "gptq-linear", "--weights", wf.toString(), "--prefix", "mlp.up_proj",
                "--input", xf.toString(), "--output", yf.toString(), "--quant-config", config.toString()),
                "tensor 'mlp.up_proj.qweight' (8, 96) read as AWQ's GEMM layout (in_dim, out_dim/8), as quant_method awq says");
        Files.writeString(config, "{\"quant_method\": \"bitsandbytes\"}");
        assertOneLineError(run("run", "--layer", "gptq-linear", "--weights", wf.toString(), "--prefix", "mlp.up_proj",
                "--input", xf.toString(), "--output", yf.toString(), "--quant-config", config.toString()),
                "is GPTQ- or AWQ-packed, but quantization_config.quant_method is 'bitsandbytes' (expected gptq or awq)");
    }

    @Test
    void runFp8LinearPerTokenFromAnFbgemmConfig() throws IOException {
        SplittableRandom rnd = new SplittableRandom(SEED + 4);
        int k = 300, n = 33, m = 4;
        Path config = dir.resolve("config.json");
        Files.writeString(config, "{\"quantization_config\": {\"quant_method\": \"fbgemm_fp8\", \"activation_scale_ub\": 1200.0}}");
        Tensor w = RandomTensors.uniform(DType.F8_E4M3FN, Shape.of(n, k), rnd);
        float[] scales = new float[n];
        for (int i = 0; i < n; i++) {
            scales[i] = (float) rnd.nextDouble(0.001, 0.02);
        }
        Map<String, Tensor> ckpt = new LinkedHashMap<>();
        ckpt.put("o_proj.weight", w);
        ckpt.put("o_proj.weight_scale", Tensor.of(DType.F32, Shape.of(n, 1), scales));
        Path wf = write("fp8.safetensors", ckpt);
        Tensor x = RandomTensors.uniform(DType.F32, Shape.of(m, k), rnd);
        Path xf = write("x.safetensors", Map.of("x", x));
        Path yf = dir.resolve("y.safetensors");
        CliRun r = run("run", "--layer", "fp8-linear", "--weights", wf.toString(), "--prefix", "o_proj",
                "--input", xf.toString(), "--output", yf.toString(), "--quant-config", config.toString());
        assertEquals(0, r.code(), r.err());
        double[] ref = Fp8Oracle.linear(x.toFloatArray(), m, k, Float8Format.E4M3FN, Float8InputScaleSpec.dynamicPerToken(1200f),
                0f, Oracle.decode(w), n, Float8WeightScaleSpec.rowwise(), scales, null);
        // BF16 output, as in MAX: compare at bf16 precision
        Comparison c = Comparison.of(readY(yf), ref);
        assertTrue(c.within(new Tolerance(1e-2, 1e-2)), c::toString);
    }

    /**
     * A model folder as llm-compressor saves static asymmetric W8A8 INT8 (a tensor weight scale, an
     * input scale and zero point, all (1,), F16 for an fp16 model): --layer int8-linear reads it
     * from the folder alone; --layer fp8-linear refuses it by kind.
     */
    @Test
    void runInt8LinearFromAModelFolder() throws IOException {
        SplittableRandom rnd = new SplittableRandom(SEED + 5);
        int k = 300, n = 33, m = 3;
        Path folder = Files.createDirectories(dir.resolve("w8a8"));
        String args = "\"num_bits\": 8, \"type\": \"int\", \"group_size\": null, \"strategy\": \"tensor\", \"dynamic\": false";
        Files.writeString(folder.resolve("config.json"), "{\"torch_dtype\": \"float16\", \"quantization_config\": {"
                + "\"quant_method\": \"compressed-tensors\", \"format\": \"int-quantized\", \"config_groups\": {\"group_0\": {"
                + "\"targets\": [\"Linear\"], \"weights\": {" + args + ", \"symmetric\": true}, "
                + "\"input_activations\": {" + args + ", \"symmetric\": false}}}}}");
        byte[] codes = new byte[n * k];
        Tensor w = Tensor.allocate(DType.I8, Shape.of(n, k));
        for (int i = 0; i < codes.length; i++) {
            codes[i] = (byte) rnd.nextInt(-128, 128);
            w.data().set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, codes[i]);
        }
        Tensor zero = Tensor.allocate(DType.I8, Shape.of(1));
        zero.data().set(java.lang.foreign.ValueLayout.JAVA_BYTE, 0, (byte) -9);
        Map<String, Tensor> ckpt = new LinkedHashMap<>();
        ckpt.put("o_proj.weight", w);
        ckpt.put("o_proj.weight_scale", Tensor.of(DType.F16, Shape.of(1), 0.0031f));
        ckpt.put("o_proj.input_scale", Tensor.of(DType.F16, Shape.of(1), 0.02f));
        ckpt.put("o_proj.input_zero_point", zero);
        SafetensorsWriter.write(folder.resolve("model.safetensors"), ckpt);
        Tensor x = RandomTensors.uniform(DType.F32, Shape.of(m, k), rnd);
        Path xf = write("x.safetensors", Map.of("x", x));
        Path yf = dir.resolve("y.safetensors");
        CliRun r = run("run", "--layer", "int8-linear", "--weights", folder.toString(), "--prefix", "o_proj",
                "--input", xf.toString(), "--output", yf.toString());
        assertEquals(0, r.code(), r.err());
        Int8Scheme scheme = Int8Scheme.of(Int8Scheme.WeightScale.TENSOR, Int8Scheme.InputScale.STATIC_TENSOR, false);
        double[] ref = Int8Oracle.linear(x.toFloatArray(), m, k, scheme, ckpt.get("o_proj.input_scale").getFloat(0), -9, codes, n,
                ckpt.get("o_proj.weight_scale").toFloatArray(), null);
        Comparison c = Comparison.of(readY(yf), ref);
        assertTrue(c.within(Tolerance.F32_ACCUMULATION), c::toString);

        assertOneLineError(run("run", "--layer", "fp8-linear", "--weights", folder.toString(), "--prefix", "o_proj",
                "--input", xf.toString(), "--output", yf.toString()), "--layer fp8-linear reads fp8 weights, but 'o_proj' holds int8 (W8A8) ones");
    }

    @Test
    void quantizeFp8QuantisesADenseCheckpointAsItLoads() {
        SplittableRandom rnd = new SplittableRandom(SEED + 5);
        int k = 129, n = 40, m = 3;
        Tensor w = RandomTensors.uniform(DType.F32, Shape.of(n, k), rnd);
        Path wf = write("dense.safetensors", Map.of("proj.weight", w));
        Tensor x = RandomTensors.uniform(DType.F32, Shape.of(m, k), rnd);
        Path xf = write("x.safetensors", Map.of("x", x));
        Path yf = dir.resolve("y.safetensors");
        float amax = 0f;
        for (float v : w.toFloatArray()) {
            amax = Math.max(amax, Math.abs(v));
        }
        float scale = amax / 448f;
        double[] wq = new double[n * k];
        for (int i = 0; i < wq.length; i++) {
            wq[i] = Float8Format.E4M3FN.round(w.getFloat(i) * (1f / scale));
        }
        for (String mode : new String[] {"fp8", "fp8-per-tensor"}) {
            CliRun r = run("run", "--layer", "fp8-linear", "--weights", wf.toString(), "--prefix", "proj", "--input", xf.toString(),
                    "--output", yf.toString(), "--quantize", mode);
            assertEquals(0, r.code(), r.err());
            Float8InputScaleSpec in = mode.equals("fp8") ? Float8InputScaleSpec.dynamicPerToken(null) : Float8InputScaleSpec.dynamicTensor(null);
            double[] ref = Fp8Oracle.linear(x.toFloatArray(), m, k, Float8Format.E4M3FN, in, 0f, wq, n,
                    Float8WeightScaleSpec.tensor(), new float[] {scale}, null);
            Comparison c = Comparison.of(readY(yf), ref);
            assertTrue(c.within(Tolerance.F32_ACCUMULATION), () -> mode + ": " + c); // F32 weights: F32 output
        }
        assertOneLineError(run("run", "--layer", "linear", "--weights", wf.toString(), "--prefix", "proj", "--input", xf.toString(),
                "--output", yf.toString(), "--quantize", "int4"), "unknown quantisation 'int4'; valid: fp8, fp8-per-tensor");
        assertOneLineError(run("run", "--layer", "linear", "--weights", wf.toString(), "--prefix", "proj", "--input", xf.toString(),
                "--output", yf.toString(), "--quantize", "fp8", "--clip-weight", "0.5"), "clip_weight applies to unquantised weights");
    }

    private static double[] gptqWeights(Map<String, Tensor> ckpt, String p, GptqConfig q) {
        return GptqOracle.dequantize(ckpt.get(p + ".qweight"), ckpt.get(p + ".qzeros"), ckpt.get(p + ".scales"),
                ckpt.get(p + ".g_idx"), q.bits(), q.groupSize(), q.format() == GptqFormat.GPTQ);
    }

    @Test
    void badInputsAreOneLineErrors() throws IOException {
        SplittableRandom rnd = new SplittableRandom(SEED + 2);
        Path wf = write("w.safetensors", Map.of("weight", RandomTensors.uniform(DType.F32, Shape.of(4, 6), rnd)));
        Path xBad = write("xbad.safetensors", Map.of("x", RandomTensors.uniform(DType.F32, Shape.of(2, 5), rnd)));
        Path noX = write("nox.safetensors", Map.of("input", RandomTensors.uniform(DType.F32, Shape.of(2, 6), rnd)));
        Path truncated = dir.resolve("truncated.safetensors");
        byte[] whole = Files.readAllBytes(wf);
        Files.write(truncated, java.util.Arrays.copyOf(whole, whole.length - 3));
        String y = dir.resolve("y.safetensors").toString();

        assertOneLineError(run("run", "--layer", "linear", "--weights", wf.toString(), "--input", xBad.toString(), "--output", y),
                "input has last dimension 5 (shape (2, 5)), but in_dim is 6");
        assertOneLineError(run("run", "--layer", "linear", "--weights", wf.toString(), "--input", noX.toString(), "--output", y),
                "missing input tensor 'x'");
        assertOneLineError(run("run", "--layer", "linear", "--weights", truncated.toString(), "--input", xBad.toString(), "--output", y),
                "truncated file?");
        assertOneLineError(run("run", "--layer", "mlp", "--weights", wf.toString(), "--input", xBad.toString(), "--output", y),
                "no layer under prefix 'gate_proj': expected 'gate_proj.weight'");
        assertOneLineError(run("run", "--layer", "conv", "--weights", wf.toString(), "--input", xBad.toString(), "--output", y),
                "unknown layer 'conv'; valid: linear, mlp, gptq-linear, fp8-linear");
        assertOneLineError(run("run", "--layer", "linear", "--activation", "silu", "--weights", wf.toString(),
                "--input", xBad.toString(), "--output", y), "--activation applies to --layer mlp only");
        assertOneLineError(run("run", "--layer", "linear", "--weights", wf.toString(), "--input", xBad.toString(),
                "--output", y, "--device", "tpu:0"), "unknown device 'tpu:0'");
        CliRun usage = run("run", "--layer", "linear");
        assertEquals(2, usage.code());
        assertEquals(1, usage.err().strip().lines().count(), usage.err());
    }

    /** Issue 17: --output equal to --weights overwrote the checkpoint and exited 0; "--device ," was an ArrayIndexOutOfBoundsException. */
    @Test
    void edgesOfTheFileAndDeviceArgumentsAreOneLineErrors() throws Exception {
        SplittableRandom rnd = new SplittableRandom(SEED + 3);
        Path wf = write("w.safetensors", Map.of("weight", RandomTensors.uniform(DType.F32, Shape.of(4, 6), rnd)));
        Path xf = write("x.safetensors", Map.of("x", RandomTensors.uniform(DType.F32, Shape.of(2, 6), rnd)));
        byte[] checkpoint = Files.readAllBytes(wf);
        String y = dir.resolve("y.safetensors").toString();

        assertOneLineError(run("run", "--layer", "linear", "--weights", wf.toString(), "--input", xf.toString(),
                "--output", wf.toString()), "is the same file as the input");
        Path alias = Files.createLink(dir.resolve("alias.safetensors"), wf);
        assertOneLineError(run("run", "--layer", "linear", "--weights", wf.toString(), "--input", xf.toString(),
                "--output", alias.toString()), "is the same file as the input");
        assertOneLineError(run("run", "--layer", "linear", "--weights", wf.toString(), "--input", xf.toString(),
                "--output", xf.toString()), "is the same file as the input");
        assertEquals(java.util.Arrays.toString(checkpoint), java.util.Arrays.toString(Files.readAllBytes(wf)));
        assertOneLineError(run("run", "--layer", "linear", "--weights", wf.toString(), "--input", xf.toString(),
                "--output", dir.toString()), "is a directory");

        for (String devices : new String[] {",", "cpu:0,", ",cpu:1", "cpu:0,cpu:0"}) {
            assertOneLineError(run("run", "--layer", "linear", "--weights", wf.toString(), "--input", xf.toString(),
                    "--output", y, "--device", devices), devices.contains(":0,cpu") ? "listed twice" : "empty entry");
        }
        assertOneLineError(run("run", "--layer", "linear", "--weights", dir.toString(), "--input", xf.toString(),
                "--output", y), "no model.safetensors or model.safetensors.index.json in");
        assertOneLineError(run("run", "--layer", "linear", "--weights", dir.resolve("none.safetensors").toString(),
                "--input", xf.toString(), "--output", y), "no such file");
        Path fifo = dir.resolve("fifo.safetensors");
        if (new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor() == 0) {
            CliRun r = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(20),
                    () -> run("run", "--layer", "linear", "--weights", fifo.toString(), "--input", xf.toString(), "--output", y));
            assertOneLineError(r, "is a FIFO");
        }
        assertTrue(!Files.exists(Path.of(y)), "no output after an error");
    }

    private static void assertOneLineError(CliRun r, String expected) {
        assertEquals(1, r.code(), r.err());
        String err = r.err().strip();
        assertEquals(1, err.lines().count(), err);
        assertTrue(err.startsWith("tornado-nn: error: ") && err.contains(expected), err);
    }

    @Test
    void verbosePrintsTheStackTrace() {
        CliRun r = run("conformance", "--device", "gpu:0", "--verbose");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("TornadoVM") && r.err().contains("\tat "), r.err());
    }

    @Test
    void conformancePassesOnCpuAndPrintsItsTable() {
        CliRun r = run("conformance", "--device", "cpu:0", "--seed", Long.toString(SEED));
        assertEquals(0, r.code(), r.out());
        assertTrue(r.out().contains("layer       weights"), r.out());
        assertTrue(r.out().matches("(?s).*\\n\\d+ passed, 0 failed\\n.*"), r.out());
        assertTrue(!r.out().contains("tp-mlp"), "sharded cases only with --devices");
    }

    @Test
    void conformanceRunsTheShardedCasesOverADeviceList() {
        CliRun r = run("conformance", "--devices", "cpu:0,cpu:1,cpu:2", "--seed", Long.toString(SEED));
        assertEquals(0, r.code(), r.out());
        assertTrue(r.out().contains("tp-mlp") && r.out().contains("over 3"), r.out());
    }
}

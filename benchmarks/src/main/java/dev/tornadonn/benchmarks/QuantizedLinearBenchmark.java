package dev.tornadonn.benchmarks;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.DType;
import dev.tornadonn.core.io.GgmlType;
import dev.tornadonn.layers.quant.GgufLinearConfig;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.io.TensorSource;
import dev.tornadonn.core.numeric.Float8Format;
import dev.tornadonn.layers.Layer;
import dev.tornadonn.layers.Linear;
import dev.tornadonn.layers.LinearConfig;
import dev.tornadonn.layers.quant.Float8Config;
import dev.tornadonn.layers.quant.Float8InputScaleSpec;
import dev.tornadonn.layers.quant.Float8WeightScaleSpec;
import dev.tornadonn.layers.quant.Fp8LinearConfig;
import dev.tornadonn.layers.quant.GptqConfig;
import dev.tornadonn.layers.quant.GptqFormat;
import dev.tornadonn.layers.quant.GptqLinearConfig;
import dev.tornadonn.layers.quant.GptqPacker;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One linear layer {@code k → n} per weight format, through the public layer API: plain BF16,
 * GPTQ int4 (group 128), FP8 e4m3 (per-row weight scale, codes over the format's range as in
 * real checkpoints, per-token dynamic input) and GGUF Q4_0 and Q4_K (random blocks). At {@code m = 1} it is a GEMV, limited by the bytes
 * of weight it streams.
 *
 * <pre>
 * java --add-modules=jdk.incubator.vector -jar benchmarks/target/benchmarks.jar QuantizedLinearBenchmark
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx6g"})
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 3, time = 3)
public class QuantizedLinearBenchmark {

    @Param("1")
    public int m;

    @Param("4096")
    public int n;

    @Param("4096")
    public int k;

    @Param({"BF16", "GPTQ_INT4", "FP8", "GGUF_Q4_0", "GGUF_Q4_K"})
    public String format;

    private Layer layer;
    private Tensor x;

    @Setup(Level.Trial)
    public void setUp() {
        SplittableRandom rng = new SplittableRandom(BenchData.SEED);
        x = BenchData.matrix(rng, DType.F32, m, k);
        if (format.startsWith("GGUF_")) {
            layer = gguf(GgmlType.valueOf(format.substring(5)), rng);
            return;
        }
        float[] w = BenchData.weights(rng, n, k);
        DeviceRef cpu = DeviceRef.cpu(0);
        layer = switch (format) {
            case "BF16" -> Linear.of(LinearConfig.builder(k, n).dtype(DType.BF16).build(),
                    Tensor.of(DType.BF16, Shape.of(n, k), w), null);
            case "GPTQ_INT4" -> {
                GptqLinearConfig c = new GptqLinearConfig(k, n, new GptqConfig(4, 128, false, true, GptqFormat.GPTQ),
                        DType.F16, cpu, false, "");
                yield Linear.load(c, TensorSource.of(GptqPacker.pack(w, c, null)));
            }
            case "FP8" -> {
                Float8Config f8 = Float8Config.of(Float8InputScaleSpec.dynamicPerToken(null), Float8WeightScaleSpec.rowwise());
                // Quantised as FP8 checkpoints are: w in [-1, 1) onto e4m3's range, row scale 1 / 448.
                float[] scales = new float[n];
                java.util.Arrays.fill(scales, 1f / Float8Format.E4M3FN.max());
                Tensor codes = Tensor.allocate(DType.F8_E4M3FN, Shape.of(n, k));
                for (int i = 0; i < w.length; i++) {
                    codes.setFloat(i, w[i] * Float8Format.E4M3FN.max());
                }
                Map<String, Tensor> ckpt = new LinkedHashMap<>();
                ckpt.put("weight", codes);
                ckpt.put("weight_scale", Tensor.of(DType.F32, Shape.of(n, 1), scales));
                yield Linear.load(Fp8LinearConfig.of(k, n, DType.F8_E4M3FN, f8), TensorSource.of(ckpt));
            }
            default -> throw new ConfigException("format must be BF16, GPTQ_INT4, FP8, GGUF_Q4_0 or GGUF_Q4_K, not "
                    + format);
        };
    }

    /** Random GGUF blocks (every code) with f16 scales near what llama.cpp's quantiser writes for weights in [-1, 1). */
    private Layer gguf(GgmlType type, SplittableRandom rng) {
        Tensor blocks = Tensor.allocate(DType.U8, Shape.of(n, (int) type.rowBytes(k)));
        java.lang.foreign.MemorySegment data = blocks.data();
        byte[] chunk = new byte[type.blockBytes()];
        for (long at = 0; at < data.byteSize(); at += chunk.length) {
            rng.nextBytes(chunk);
            short d = Float.floatToFloat16((float) (0.01 + 0.1 * rng.nextDouble()));
            int scaleAt = 0;
            chunk[scaleAt] = (byte) d;
            chunk[scaleAt + 1] = (byte) (d >> 8);
            if (type == GgmlType.Q4_K) { // dmin
                chunk[2] = (byte) d;
                chunk[3] = (byte) (d >> 8);
            }
            java.lang.foreign.MemorySegment.copy(java.lang.foreign.MemorySegment.ofArray(chunk), 0, data, at, chunk.length);
        }
        return Linear.of(GgufLinearConfig.of(k, n, type).weightsOf(blocks, null), DeviceRef.cpu(0));
    }

    @Benchmark
    public Tensor forward() {
        return layer.forward(x);
    }
}

package dev.tornadonn.reference;

import dev.tornadonn.core.Activation;
import dev.tornadonn.core.DType;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.io.GgmlType;
import dev.tornadonn.layers.quant.GptqConfig;
import dev.tornadonn.layers.quant.GptqFormat;
import java.util.ArrayList;
import java.util.List;

/**
 * The cases every backend must pass: awkward shapes (1, 7, 13, 127, 129, 4097, and more than one
 * GEMM block), every weight dtype, bias on and off, clipping, low-precision inputs, inputs of rank
 * 1 to 3, every activation, the fp8 linear's cases ({@link Fp8ConformanceCases}), GGUF's block
 * types ({@link GgufLinearCase}) and int8 W8A8's schemes ({@link Int8ConformanceCases}). Each
 * case's data comes from its own seed, derived from one base
 * seed that is fresh per run unless {@value #SEED_PROPERTY} fixes it.
 */
public final class ConformanceSuite {
    public static final String SEED_PROPERTY = "tornadonn.seed";
    private static final List<DType> WEIGHT_DTYPES = List.of(DType.F32, DType.BF16, DType.F16);

    private ConformanceSuite() {}

    /** The base seed: {@value #SEED_PROPERTY} when set, else a fresh one. */
    public static long baseSeed() {
        String fixed = System.getProperty(SEED_PROPERTY);
        return fixed != null ? Long.parseLong(fixed.strip()) : System.nanoTime() ^ System.currentTimeMillis() << 20;
    }

    public static List<ConformanceCase> cases(long baseSeed) {
        List<ConformanceCase> cases = new ArrayList<>();
        List<Shape> linearInputs = List.of(
                Shape.of(1, 1), Shape.of(64), Shape.of(7, 13), Shape.of(2, 3, 129), Shape.of(13, 4097),
                Shape.of(129, 127), Shape.of(33, 300));
        int[] linearOut = {1, 33, 7, 127, 9, 129, 600};
        for (DType dtype : WEIGHT_DTYPES) {
            for (int s = 0; s < linearInputs.size(); s++) {
                for (boolean bias : new boolean[] {false, true}) {
                    cases.add(new LinearCase(linearInputs.get(s), linearOut[s], dtype, DType.F32, bias, 0,
                            seed(baseSeed, cases.size())));
                }
            }
            cases.add(new LinearCase(Shape.of(5, 129), 70, dtype, DType.F32, true, 0.5, seed(baseSeed, cases.size())));
            cases.add(new LinearCase(Shape.of(3, 77), 13, dtype, dtype, false, 0, seed(baseSeed, cases.size())));
            // Row counts either side of the device backends' GEMV/GEMM switch and of their tiles.
            cases.add(new LinearCase(Shape.of(17, 100), 45, dtype, DType.F32, true, 0, seed(baseSeed, cases.size())));
            cases.add(new LinearCase(Shape.of(64, 257), 130, dtype, DType.F32, false, 0, seed(baseSeed, cases.size())));
        }
        for (DType dtype : WEIGHT_DTYPES) {
            for (Activation act : Activation.values()) {
                for (boolean bias : new boolean[] {false, true}) {
                    cases.add(new MlpCase(Shape.of(5, 129), 67, dtype, act, bias, seed(baseSeed, cases.size())));
                }
            }
        }
        cases.add(new MlpCase(Shape.of(7), 13, DType.F32, Activation.SILU, false, seed(baseSeed, cases.size())));
        cases.add(new MlpCase(Shape.of(3, 40), 70, DType.F16, Activation.SILU, true, seed(baseSeed, cases.size())));
        cases.add(new MlpCase(Shape.of(17, 72), 50, DType.BF16, Activation.GELU, true, seed(baseSeed, cases.size())));
        cases.add(new MlpCase(Shape.of(64, 33), 129, DType.F32, Activation.GELU_TANH, false, seed(baseSeed, cases.size())));
        cases.add(new MlpCase(Shape.of(2, 4, 64), 300, DType.BF16, Activation.GELU, true, seed(baseSeed, cases.size())));
        cases.add(new MlpCase(Shape.of(1, 4097), 33, DType.F16, Activation.GELU_TANH, true, seed(baseSeed, cases.size())));
        addGptqCases(cases, baseSeed);
        cases.addAll(Fp8ConformanceCases.fp8Cases(baseSeed));
        addGgufCases(cases, baseSeed);
        cases.addAll(Int8ConformanceCases.int8Cases(baseSeed));
        addWeightOnlyCheckpointCases(cases, baseSeed);
        return List.copyOf(cases);
    }

    /**
     * The formats read from a tool's checkpoint and config: AWQ GEMM (group sizes, bias), the
     * compressed-tensors pack-quantized W4A16/W8A16 (group and channel, symmetric and with zero
     * points, activation order, a partial last group), and dense weights quantised to fp8 as they
     * load (per-token and per-tensor inputs, each weight dtype). One and a few rows of x (the GEMV),
     * more (the GEMM), rank 3.
     */
    private static void addWeightOnlyCheckpointCases(List<ConformanceCase> cases, long baseSeed) {
        cases.add(new AwqLinearCase(Shape.of(1, 128), 64, 128, false, seed(baseSeed, cases.size())));
        cases.add(new AwqLinearCase(Shape.of(3, 256), 40, 64, true, seed(baseSeed, cases.size())));
        cases.add(new AwqLinearCase(Shape.of(17, 96), 136, 32, true, seed(baseSeed, cases.size())));
        cases.add(new AwqLinearCase(Shape.of(2, 3, 64), 8, -1, false, seed(baseSeed, cases.size())));
        cases.add(new PackQuantizedLinearCase(Shape.of(1, 256), 33, 4, 128, true, false, false, seed(baseSeed, cases.size())));
        cases.add(new PackQuantizedLinearCase(Shape.of(5, 200), 70, 4, 64, false, false, true, seed(baseSeed, cases.size())));
        cases.add(new PackQuantizedLinearCase(Shape.of(9, 256), 17, 4, 32, false, true, false, seed(baseSeed, cases.size())));
        cases.add(new PackQuantizedLinearCase(Shape.of(2, 129), 65, 8, -1, true, false, true, seed(baseSeed, cases.size())));
        cases.add(new PackQuantizedLinearCase(Shape.of(2, 3, 96), 31, 8, 32, false, false, false, seed(baseSeed, cases.size())));
        cases.add(new PackQuantizedLinearCase(Shape.of(40, 7), 9, 4, -1, false, false, true, seed(baseSeed, cases.size())));
        int[][] shapes = {{1, 129, 33}, {4, 64, 7}, {13, 300, 129}, {1, 1, 1}};
        for (DType dtype : WEIGHT_DTYPES) {
            for (int s = 0; s < shapes.length; s++) {
                cases.add(new OnlineFp8LinearCase(Shape.of(shapes[s][0], shapes[s][1]), shapes[s][2], dtype, s % 2 == 0,
                        s != 1, seed(baseSeed, cases.size())));
            }
        }
        cases.add(new OnlineFp8LinearCase(Shape.of(2, 3, 64), 20, DType.BF16, true, true, seed(baseSeed, cases.size())));
    }

    /** Each GGUF block type: one and a few rows of x (the GEMV), more (decode-a-row), rank 3, awkward N, bias on and off. */
    private static void addGgufCases(List<ConformanceCase> cases, long baseSeed) {
        int[][] shapes = {{1, 512, 33}, {3, 256, 7}, {9, 768, 129}, {64, 256, 40}};
        for (GgmlType type : List.of(GgmlType.Q4_0, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q6_K)) {
            for (int s = 0; s < shapes.length; s++) {
                cases.add(new GgufLinearCase(Shape.of(shapes[s][0], shapes[s][1]), shapes[s][2], type, s % 2 == 1,
                        seed(baseSeed, cases.size())));
            }
            cases.add(new GgufLinearCase(Shape.of(2, 3, 256), 17, type, true, seed(baseSeed, cases.size())));
        }
        cases.add(new GgufLinearCase(Shape.of(4096), 9, GgmlType.Q4_0, false, seed(baseSeed, cases.size())));
    }

    /** Every bit width and group size, both zero conventions and formats, act-order, and awkward N and K. */
    private static void addGptqCases(List<ConformanceCase> cases, long baseSeed) {
        int[][] shapes = {{1, 128, 32}, {7, 256, 96}, {13, 384, 160}, {4, 4096, 32}, {129, 64, 64}};
        int[] bits = {2, 3, 4, 8};
        int[] groupSizes = {32, 64, 128, -1};
        int i = 0;
        for (int b : bits) {
            for (int g : groupSizes) {
                int[] s = shapes[i % shapes.length];
                if (g != -1 && s[1] % g != 0) {
                    s = shapes[1];
                }
                boolean actOrder = i % 3 == 1;
                cases.add(new GptqLinearCase(Shape.of(s[0], s[1]), s[2], new GptqConfig(b, g, actOrder, i % 2 == 0,
                        i % 4 < 2 ? GptqFormat.GPTQ : GptqFormat.GPTQ_V2), actOrder, i % 5 != 0, seed(baseSeed, cases.size())));
                i++;
            }
        }
        cases.add(new GptqLinearCase(Shape.of(2, 3, 256), 64, new GptqConfig(4, 128, true, true, GptqFormat.GPTQ), true,
                true, seed(baseSeed, cases.size())));
        cases.add(new GptqLinearCase(Shape.of(256), 32, new GptqConfig(4, 32, false, false, GptqFormat.GPTQ_V2), false,
                false, seed(baseSeed, cases.size())));
    }

    /** SplitMix64 of base + index: well-spread, reproducible per-case seeds. */
    static long seed(long base, int index) {
        long z = base + 0x9E3779B97F4A7C15L * (index + 1);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}

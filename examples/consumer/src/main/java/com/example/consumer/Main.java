package com.example.consumer;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.io.SafetensorsFile;
import dev.tornadonn.core.io.SafetensorsWriter;
import dev.tornadonn.layers.Linear;
import dev.tornadonn.layers.LinearConfig;
import dev.tornadonn.parallel.nccl.NcclSupport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;

/**
 * Writes a small bf16 Linear checkpoint ({@code proj.weight}, {@code proj.bias}) and an input
 * {@code x} into a directory, loads the layer strictly from the checkpoint, computes
 * {@code y = x·Wᵀ + b}, prints it, writes it to {@code y.safetensors} and checks it against a float64
 * loop over the same decoded values. {@code check_numpy.py} checks the same files with numpy.
 *
 * <p>Usage: {@code Main DIR}; exit status 1 when y is off.
 */
public final class Main {
    static final int IN = 24;
    static final int OUT = 10;
    static final int TOKENS = 3;

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : "target/consumer-run");
        Files.createDirectories(dir);
        Path checkpoint = dir.resolve("linear.safetensors");

        Random random = new Random(16);
        Tensor weight = Tensor.of(DType.BF16, Shape.of(OUT, IN), draw(random, OUT * IN));
        Tensor bias = Tensor.of(DType.BF16, Shape.of(OUT), draw(random, OUT));
        Tensor x = Tensor.of(DType.F32, Shape.of(TOKENS, IN), draw(random, TOKENS * IN));
        SafetensorsWriter.write(checkpoint, Map.of("proj.weight", weight, "proj.bias", bias));
        SafetensorsWriter.write(dir.resolve("x.safetensors"), Map.of("x", x));

        LinearConfig config = LinearConfig.builder(IN, OUT)
                .dtype(DType.BF16)
                .hasBias(true)
                .name("proj")
                .build();                                  // device defaults to cpu:0
        Tensor y;
        try (SafetensorsFile file = SafetensorsFile.open(checkpoint);
                Linear linear = Linear.load(config, file)) {
            y = linear.forward(x);                         // F32 (TOKENS, OUT)
        }
        SafetensorsWriter.write(dir.resolve("y.safetensors"), Map.of("y", y));

        float[] ys = y.toFloatArray();
        for (int t = 0; t < TOKENS; t++) {
            StringBuilder row = new StringBuilder("y[" + t + "] =");
            for (int o = 0; o < OUT; o++) {
                row.append(String.format(" %.6f", ys[t * OUT + o]));
            }
            System.out.println(row);
        }

        // The same product in float64 from the decoded bf16 values: only f32 rounding may differ.
        float[] w = weight.toFloatArray();
        float[] b = bias.toFloatArray();
        float[] xs = x.toFloatArray();
        double worst = 0;
        for (int t = 0; t < TOKENS; t++) {
            for (int o = 0; o < OUT; o++) {
                double sum = b[o];
                double magnitude = Math.abs(b[o]);
                for (int k = 0; k < IN; k++) {
                    sum += (double) xs[t * IN + k] * w[o * IN + k];
                    magnitude += Math.abs((double) xs[t * IN + k] * w[o * IN + k]);
                }
                worst = Math.max(worst, Math.abs(ys[t * OUT + o] - sum) / magnitude);
            }
        }
        System.out.println("shape " + y.shape() + ", worst error against float64 " + worst + " of |x|·|w|+|b|");
        // Without its optional bytedeco jars, parallel reports NCCL unavailable instead of failing.
        System.out.println("NCCL: " + NcclSupport.detect());
        if (!(worst <= 1e-5)) {
            System.err.println("FAILED: y differs from the float64 product");
            System.exit(1);
        }
        System.out.println("OK");
    }

    private static float[] draw(Random random, int n) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }
}

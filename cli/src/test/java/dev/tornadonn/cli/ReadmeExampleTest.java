package dev.tornadonn.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tornadonn.core.Activation;
import dev.tornadonn.core.DType;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.io.SafetensorsWriter;
import dev.tornadonn.reference.Comparison;
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

/** The README's usage example compiles (it is {@link ReadmeExample}), is what README shows, and is right. */
class ReadmeExampleTest {

    @Test
    void readmeShowsTheCompiledExample() throws IOException {
        Path root = Path.of("").toAbsolutePath().getParent();
        String source = Files.readString(root.resolve("cli/src/test/java/dev/tornadonn/cli/ReadmeExample.java"));
        String example = source.substring(source.indexOf("// README-BEGIN\n") + 16, source.indexOf("// README-END"));
        String readme = Files.readString(root.resolve("README.md"));
        assertTrue(readme.contains(example), "README.md must contain ReadmeExample.java between its markers verbatim");
    }

    @Test
    void theExampleComputesTheMlp(@TempDir Path dir) {
        long seed = System.nanoTime();
        SplittableRandom rnd = new SplittableRandom(seed);
        int hidden = 96, ffn = 200, tokens = 3;
        Map<String, Tensor> checkpoint = new LinkedHashMap<>();
        checkpoint.put("model.layers.0.mlp.gate_proj.weight", RandomTensors.uniform(DType.BF16, Shape.of(ffn, hidden), rnd));
        checkpoint.put("model.layers.0.mlp.up_proj.weight", RandomTensors.uniform(DType.BF16, Shape.of(ffn, hidden), rnd));
        checkpoint.put("model.layers.0.mlp.down_proj.weight", RandomTensors.uniform(DType.BF16, Shape.of(hidden, ffn), rnd));
        checkpoint.put("model.layers.1.mlp.gate_proj.weight", RandomTensors.uniform(DType.BF16, Shape.of(1, 1), rnd));
        Path file = dir.resolve("model.safetensors");
        SafetensorsWriter.write(file, checkpoint);
        Tensor x = RandomTensors.uniform(DType.F32, Shape.of(tokens, hidden), rnd);

        Tensor y = ReadmeExample.feedForward(file, x.toFloatArray(), hidden, ffn);

        assertEquals(Shape.of(tokens, hidden), y.shape());
        double[] ref = Oracle.mlp(Oracle.decode(x), tokens, hidden, ffn, Activation.SILU,
                Oracle.decode(checkpoint.get("model.layers.0.mlp.gate_proj.weight")), null,
                Oracle.decode(checkpoint.get("model.layers.0.mlp.up_proj.weight")), null,
                Oracle.decode(checkpoint.get("model.layers.0.mlp.down_proj.weight")), null);
        Comparison c = Comparison.of(y.toFloatArray(), ref);
        assertTrue(c.within(Tolerance.F32_ACCUMULATION), () -> "seed " + seed + ": " + c);
    }

    @Test
    void theSecondExampleReadsAModelFolder(@TempDir Path dir) throws IOException {
        long seed = System.nanoTime();
        SplittableRandom rnd = new SplittableRandom(seed);
        int in = 64, out = 40, tokens = 2;
        Tensor w = RandomTensors.uniform(DType.BF16, Shape.of(out, in), rnd);
        SafetensorsWriter.write(dir.resolve("model.safetensors"), Map.of("lm_head.weight", w));
        Files.writeString(dir.resolve("config.json"), "{\"torch_dtype\": \"bfloat16\"}");
        Tensor x = RandomTensors.uniform(DType.F32, Shape.of(tokens, in), rnd);

        Tensor y = ReadmeExample.anyFormat(dir, "lm_head", x);

        Comparison c = Comparison.of(y.toFloatArray(), Oracle.linear(Oracle.decode(x), tokens, in, Oracle.decode(w), out, null));
        assertTrue(c.within(Tolerance.F32_ACCUMULATION), () -> "seed " + seed + ": " + c);
    }
}

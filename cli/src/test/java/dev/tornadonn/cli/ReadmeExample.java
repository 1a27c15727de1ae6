package dev.tornadonn.cli;

// README-BEGIN
import dev.tornadonn.core.DType;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.io.SafetensorsFile;
import dev.tornadonn.layers.MLP;
import dev.tornadonn.layers.MlpConfig;
import java.nio.file.Path;

class ReadmeExample {
    static Tensor feedForward(Path checkpoint, float[] tokens, int hidden, int intermediate) {
        MlpConfig config = MlpConfig.builder(hidden, intermediate)
                .dtype(DType.BF16)                 // the checkpoint's weight dtype
                .activation("silu")
                .name("model.layers.0.mlp")        // reads model.layers.0.mlp.gate_proj.weight, ...
                .build();                          // device defaults to cpu:0
        try (SafetensorsFile file = SafetensorsFile.open(checkpoint)) {
            MLP mlp = MLP.load(config, file);      // strict: a missing, extra or mis-shaped key throws
            Tensor x = Tensor.of(DType.F32, Shape.of(tokens.length / hidden, hidden), tokens);
            return mlp.forward(x);                 // F32 (tokens, hidden)
        }
    }
}
// README-END

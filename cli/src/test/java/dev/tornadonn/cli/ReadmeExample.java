package dev.tornadonn.cli;

// README-BEGIN
import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.io.Checkpoint;
import dev.tornadonn.core.io.SafetensorsFile;
import dev.tornadonn.layers.Linear;
import dev.tornadonn.layers.MLP;
import dev.tornadonn.layers.MlpConfig;
import dev.tornadonn.layers.checkpoint.CheckpointLayers;
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

    static Tensor anyFormat(Path modelFolder, String prefix, Tensor x) {
        // A file, or a Hugging Face folder: model.safetensors or its index and shards, config.json.
        try (Checkpoint checkpoint = Checkpoint.open(modelFolder)) {
            CheckpointLayers layers = CheckpointLayers.of(checkpoint, DeviceRef.cpu(0));
            // Dense, GPTQ, AWQ, FP8, ..., told by the tensors under the prefix and read as config.json says.
            try (Linear linear = Linear.load(layers.linearSpec(prefix), checkpoint)) {
                return linear.forward(x);          // the weight was copied once; the folder may close
            }
        }
    }
}
// README-END

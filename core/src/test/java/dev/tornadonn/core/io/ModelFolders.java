package dev.tornadonn.core.io;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;

/** Writes model folders the way transformers' save_pretrained does: shards, their index, config files. */
final class ModelFolders {
    private ModelFolders() {}

    static long seed(String what) {
        long seed = Long.getLong("tornadonn.test.seed", System.nanoTime());
        System.out.println(what + ": random seed " + seed + " (rerun with -Dtornadonn.test.seed=" + seed + ")");
        return seed;
    }

    /** A tensor of random bytes (every bit pattern is fine for a byte-for-byte round trip). */
    static Tensor random(Random rnd, DType dtype, int... dims) {
        Tensor t = Tensor.allocate(dtype, Shape.of(dims));
        byte[] bytes = new byte[(int) t.data().byteSize()];
        rnd.nextBytes(bytes);
        java.lang.foreign.MemorySegment.copy(bytes, 0, t.data(), ValueLayout.JAVA_BYTE, 0, bytes.length);
        return t;
    }

    /** transformers' shard name: model-00001-of-00003.safetensors. */
    static String shardName(int i, int of) {
        return "model-%05d-of-%05d.safetensors".formatted(i + 1, of);
    }

    /** Writes each shard and an index mapping every tensor to its shard, with total_size as transformers computes it. */
    static void writeSharded(Path dir, List<Map<String, Tensor>> shards) {
        Map<String, String> weightMap = new LinkedHashMap<>();
        long total = 0;
        for (int i = 0; i < shards.size(); i++) {
            String name = shardName(i, shards.size());
            SafetensorsWriter.write(dir.resolve(name), shards.get(i));
            for (Map.Entry<String, Tensor> e : shards.get(i).entrySet()) {
                weightMap.put(e.getKey(), name);
                total += e.getValue().data().byteSize();
            }
        }
        writeIndex(dir, total, weightMap);
    }

    /** weight_map sorted by key, as json.dumps(sort_keys=True) leaves it. */
    static void writeIndex(Path dir, long totalSize, Map<String, String> weightMap) {
        String entries = weightMap.entrySet().stream().sorted(Map.Entry.comparingByKey())
                .map(e -> "    \"" + e.getKey() + "\": \"" + e.getValue() + "\"")
                .collect(Collectors.joining(",\n"));
        write(dir.resolve(Checkpoint.INDEX), "{\n  \"metadata\": {\n    \"total_size\": " + totalSize
                + "\n  },\n  \"weight_map\": {\n" + entries + "\n  }\n}\n");
    }

    static void write(Path file, String text) {
        try {
            Files.writeString(file, text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

package dev.tornadonn.core.io;

import static dev.tornadonn.core.io.ModelFolders.random;
import static dev.tornadonn.core.io.ModelFolders.write;
import static dev.tornadonn.core.io.ModelFolders.writeIndex;
import static dev.tornadonn.core.io.ModelFolders.writeSharded;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.WeightLoadException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

class CheckpointTest {
    private static final DType[] DTYPES = {DType.F32, DType.BF16, DType.F16, DType.I32, DType.F8_E4M3FN};

    @TempDir
    Path dir;

    /** Random tensors with transformers-style keys, spread over {@code shards} shards in order. */
    private static List<Map<String, Tensor>> randomShards(Random rnd, int shards) {
        List<Map<String, Tensor>> out = new ArrayList<>();
        for (int s = 0; s < shards; s++) {
            Map<String, Tensor> m = new LinkedHashMap<>();
            int n = 1 + rnd.nextInt(4);
            for (int i = 0; i < n; i++) {
                String key = "model.layers." + s + ".mlp.proj_" + i + ".weight";
                m.put(key, random(rnd, DTYPES[rnd.nextInt(DTYPES.length)], 1 + rnd.nextInt(13), 1 + rnd.nextInt(9)));
            }
            out.add(m);
        }
        return out;
    }

    private static void assertSameTensor(Tensor expected, Tensor actual, String key) {
        assertEquals(expected.dtype(), actual.dtype(), key);
        assertEquals(expected.shape(), actual.shape(), key);
        assertEquals(-1, expected.data().mismatch(actual.data()), () -> key + ": bytes differ");
    }

    private static void rejects(Executable open, String... fragments) {
        SafetensorsException e = assertThrows(SafetensorsException.class, open);
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), () -> "'" + e.getMessage() + "' lacks '" + f + "'");
        }
    }

    private static Map<String, Tensor> tensors(Object... keyThenTensor) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (int i = 0; i < keyThenTensor.length; i += 2) {
            m.put((String) keyThenTensor[i], (Tensor) keyThenTensor[i + 1]);
        }
        return m;
    }

    @Test
    void shardedFolderReadsEveryTensorFromItsShard() {
        Random rnd = new Random(ModelFolders.seed("CheckpointTest.shardedFolderReadsEveryTensorFromItsShard"));
        List<Map<String, Tensor>> shards = randomShards(rnd, 3);
        writeSharded(dir, shards);
        Map<String, Tensor> all = new TreeMap<>();
        shards.forEach(all::putAll);
        try (Checkpoint c = Checkpoint.open(dir)) {
            assertEquals(List.copyOf(all.keySet()), List.copyOf(c.names()), "the index's (sorted) order");
            for (Map.Entry<String, Tensor> e : all.entrySet()) {
                assertSameTensor(e.getValue(), c.get(e.getKey()), e.getKey());
                TensorInfo info = c.info(e.getKey());
                assertEquals(e.getValue().dtype(), info.dtype());
                assertEquals(e.getValue().shape(), info.shape());
            }
            assertEquals(3, c.files().size());
            assertEquals(dir.toString(), c.describe());
            assertTrue(c.config().isEmpty(), "no config.json");
            assertNull(c.info("nope"));
        }
    }

    @Test
    void folderAsTransformersSavesIt() {
        Random rnd = new Random(ModelFolders.seed("CheckpointTest.folderAsTransformersSavesIt"));
        Map<String, Tensor> first = tensors(
                "model.embed_tokens.weight", random(rnd, DType.BF16, 32, 8),
                "model.layers.0.mlp.down_proj.weight", random(rnd, DType.BF16, 8, 16),
                "model.layers.0.mlp.gate_proj.weight", random(rnd, DType.BF16, 16, 8));
        Map<String, Tensor> second = tensors(
                "model.layers.0.mlp.up_proj.weight", random(rnd, DType.BF16, 16, 8),
                "lm_head.weight", random(rnd, DType.BF16, 32, 8));
        writeSharded(dir, List.of(first, second));
        write(dir.resolve("config.json"), """
                {"architectures": ["LlamaForCausalLM"], "hidden_size": 8, "intermediate_size": 16,
                 "torch_dtype": "bfloat16", "transformers_version": "4.46.0", "vocab_size": 32}""");
        write(dir.resolve("generation_config.json"), "{\"do_sample\": false}");
        write(dir.resolve("tokenizer.json"), "{}");
        assertTrue(Files.exists(dir.resolve("model-00001-of-00002.safetensors")));
        assertTrue(Files.exists(dir.resolve("model-00002-of-00002.safetensors")));
        try (Checkpoint c = Checkpoint.open(dir)) {
            assertEquals(List.of(dir.resolve("model-00001-of-00002.safetensors"), dir.resolve("model-00002-of-00002.safetensors")),
                    c.files());
            first.forEach((k, t) -> assertSameTensor(t, c.get(k), k));
            second.forEach((k, t) -> assertSameTensor(t, c.get(k), k));
            assertEquals(DType.BF16, c.config().orElseThrow().torchDType().orElseThrow());
            assertTrue(c.config().orElseThrow().quantization().isEmpty());
            WeightLoadException e = assertThrows(WeightLoadException.class, () -> c.get("lm_head.weights"));
            assertTrue(e.getMessage().contains("'lm_head.weights'") && e.getMessage().contains(dir.toString())
                    && e.getMessage().contains("did you mean 'lm_head.weight'"), e.getMessage());
        }
    }

    @Test
    void singleFileAndSingleFileFolders() throws IOException {
        Random rnd = new Random(ModelFolders.seed("CheckpointTest.singleFileAndSingleFileFolders"));
        Map<String, Tensor> m = tensors("w", random(rnd, DType.F32, 3, 5), "b", random(rnd, DType.F16, 5));
        Path file = dir.resolve("model.safetensors");
        SafetensorsWriter.write(file, m);
        write(dir.resolve("config.json"), "{\"torch_dtype\": \"float32\"}");
        try (Checkpoint c = Checkpoint.open(file)) {
            assertEquals(List.of("w", "b"), List.copyOf(c.names()));
            m.forEach((k, t) -> assertSameTensor(t, c.get(k), k));
            assertEquals(file.toString(), c.describe());
            assertTrue(c.config().isEmpty(), "a file alone has no config, even with config.json beside it");
        }
        try (Checkpoint c = Checkpoint.open(dir)) {
            m.forEach((k, t) -> assertSameTensor(t, c.get(k), k));
            assertEquals(List.of(file), c.files());
            assertEquals(DType.F32, c.config().orElseThrow().torchDType().orElseThrow());
        }
        // A folder whose one safetensors file has another name (e.g. adapter_model.safetensors) opens too.
        Files.move(file, dir.resolve("weights.safetensors"));
        try (Checkpoint c = Checkpoint.open(dir)) {
            m.forEach((k, t) -> assertSameTensor(t, c.get(k), k));
        }
        SafetensorsWriter.write(dir.resolve("other.safetensors"), m);
        rejects(() -> Checkpoint.open(dir), "no model.safetensors or model.safetensors.index.json in " + dir,
                "other.safetensors, weights.safetensors");
    }

    @Test
    void emptyOrMissingFolderIsAClearError() {
        rejects(() -> Checkpoint.open(dir), "no model.safetensors or model.safetensors.index.json in " + dir);
        rejects(() -> Checkpoint.open(dir.resolve("absent")), dir.resolve("absent") + ": no such file or model folder");
    }

    @Test
    void modelSafetensorsWinsOverAnIndex() {
        Random rnd = new Random(ModelFolders.seed("CheckpointTest.modelSafetensorsWinsOverAnIndex"));
        Map<String, Tensor> m = tensors("w", random(rnd, DType.F32, 2, 2));
        SafetensorsWriter.write(dir.resolve("model.safetensors"), m);
        writeIndex(dir, 16, Map.of("w", "model-00001-of-00001.safetensors")); // its shard is absent
        try (Checkpoint c = Checkpoint.open(dir)) {
            assertSameTensor(m.get("w"), c.get("w"), "w");
        }
    }

    @Test
    void tensorsAreViewsValidUntilClose() {
        Random rnd = new Random(ModelFolders.seed("CheckpointTest.tensorsAreViewsValidUntilClose"));
        writeSharded(dir, randomShards(rnd, 2));
        List<Tensor> views = new ArrayList<>();
        try (Checkpoint c = Checkpoint.open(dir)) {
            c.names().forEach(n -> views.add(c.get(n)));
        }
        for (Tensor t : views) { // every shard was unmapped, not only the first
            assertThrows(IllegalStateException.class, () -> t.data().get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0));
        }
    }

    @Test
    void hubCacheSymlinksIntoBlobsAreFollowed() throws IOException {
        Random rnd = new Random(ModelFolders.seed("CheckpointTest.hubCacheSymlinksIntoBlobsAreFollowed"));
        Path blobs = Files.createDirectories(dir.resolve("blobs"));
        Path snapshot = Files.createDirectories(dir.resolve("snapshots/abc123"));
        List<Map<String, Tensor>> shards = randomShards(rnd, 2);
        writeSharded(blobs, shards);
        try (var s = Files.list(blobs)) {
            for (Path blob : s.toList()) {
                Files.createSymbolicLink(snapshot.resolve(blob.getFileName()), Path.of("../../blobs").resolve(blob.getFileName()));
            }
        }
        try (Checkpoint c = Checkpoint.open(snapshot)) {
            shards.forEach(m -> m.forEach((k, t) -> assertSameTensor(t, c.get(k), k)));
        }
    }

    /** Two shards, a and b, each with two tensors; the index is left to the test. */
    private void twoShards() {
        Random rnd = new Random(7);
        SafetensorsWriter.write(dir.resolve("a.safetensors"), tensors("x", random(rnd, DType.F32, 2), "y", random(rnd, DType.F32, 3)));
        SafetensorsWriter.write(dir.resolve("b.safetensors"), tensors("z", random(rnd, DType.F32, 4), "w", random(rnd, DType.F32, 5)));
    }

    private void index(Map<String, String> weightMap) {
        writeIndex(dir, 56, weightMap);
    }

    @Test
    void indexAndShardsMustAgree() {
        twoShards();
        Path idx = dir.resolve(Checkpoint.INDEX);
        index(Map.of("x", "a.safetensors", "y", "a.safetensors", "z", "b.safetensors"));
        rejects(() -> Checkpoint.open(dir), idx.toString(), "'w'", "b.safetensors", "not in the index's weight_map");
        index(Map.of("x", "a.safetensors", "y", "a.safetensors", "z", "b.safetensors", "w", "b.safetensors",
                "v", "b.safetensors"));
        rejects(() -> Checkpoint.open(dir), idx.toString(), "weight_map puts 'v' in b.safetensors, which has no such tensor");
        index(Map.of("x", "a.safetensors", "y", "b.safetensors", "z", "b.safetensors", "w", "b.safetensors"));
        rejects(() -> Checkpoint.open(dir), "weight_map puts 'y' in b.safetensors, but it is stored in a.safetensors");
        index(Map.of("x", "a.safetensors", "y", "a.safetensors", "z", "b.safetensors", "w", "c.safetensors"));
        rejects(() -> Checkpoint.open(dir), idx.toString(), "shard c.safetensors", "'w'", "is missing from " + dir);
        index(Map.of("x", "a.safetensors", "y", "a.safetensors", "z", "./b.safetensors", "w", "b.safetensors"));
        try (Checkpoint c = Checkpoint.open(dir)) { // ./b and b are one shard, opened once
            assertEquals(2, c.files().size());
        }
    }

    @Test
    void aKeyInTwoShardsIsAnError() {
        twoShards();
        Random rnd = new Random(8);
        SafetensorsWriter.write(dir.resolve("c.safetensors"), tensors("x", random(rnd, DType.F32, 2)));
        index(Map.of("x", "a.safetensors", "y", "a.safetensors", "z", "b.safetensors", "w", "b.safetensors",
                "q", "c.safetensors"));
        rejects(() -> Checkpoint.open(dir), "tensor 'x' is stored in more than one shard: a.safetensors and c.safetensors");
        write(dir.resolve(Checkpoint.INDEX), """
                {"weight_map": {"x": "a.safetensors", "x": "c.safetensors"}}""");
        rejects(() -> Checkpoint.open(dir), "Duplicate field 'x'");
    }

    @Test
    void shardNamesMayNotLeaveTheFolder() throws IOException {
        Path model = Files.createDirectories(dir.resolve("model"));
        Random rnd = new Random(9);
        SafetensorsWriter.write(dir.resolve("outside.safetensors"), tensors("x", random(rnd, DType.F32, 2)));
        for (String escape : List.of("../outside.safetensors", dir.resolve("outside.safetensors").toString(),
                "sub/../../outside.safetensors")) {
            writeIndex(model, 8, Map.of("x", escape));
            rejects(() -> Checkpoint.open(model), "weight_map['x'] = '" + escape + "' escapes the model folder");
        }
        writeIndex(model, 8, Map.of("x", ""));
        rejects(() -> Checkpoint.open(model), "weight_map['x'] must name a shard file");
        write(model.resolve(Checkpoint.INDEX), "{\"weight_map\": {\"x\": 3}}");
        rejects(() -> Checkpoint.open(model), "weight_map['x'] must name a shard file, got 3");
        write(model.resolve(Checkpoint.INDEX), "{\"metadata\": {}}");
        rejects(() -> Checkpoint.open(model), Checkpoint.INDEX, "weight_map must be an object");
        write(model.resolve(Checkpoint.INDEX), "{\"weight_map\": {} ");
        rejects(() -> Checkpoint.open(model), Checkpoint.INDEX, "cannot read the shard index");
    }

    @Test
    void aBadShardFailsTheWholeOpen() throws IOException {
        twoShards();
        index(Map.of("x", "a.safetensors", "y", "a.safetensors", "z", "b.safetensors", "w", "b.safetensors"));
        Files.write(dir.resolve("b.safetensors"), new byte[] {1, 2, 3});
        rejects(() -> Checkpoint.open(dir), dir.resolve("b.safetensors").toString(), "truncated");
    }

    @Test
    void infoNeedsNoData() {
        Random rnd = new Random(ModelFolders.seed("CheckpointTest.infoNeedsNoData"));
        writeSharded(dir, List.of(tensors("big", random(rnd, DType.BF16, 64, 32))));
        try (Checkpoint c = Checkpoint.open(dir)) {
            TensorInfo info = c.info("big");
            assertEquals(DType.BF16, info.dtype());
            assertEquals(Shape.of(64, 32), info.shape());
            assertEquals(64 * 32 * 2, info.end() - info.begin());
        }
    }
}

package dev.tornadonn.core.io;

import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.WeightLoadException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A checkpoint as Hugging Face writes it: one safetensors file, or a model folder holding
 * {@code model.safetensors}, or {@code model.safetensors.index.json} and its shards, next to
 * {@code config.json}; or a GGUF file as llama.cpp writes it ({@link GgufFile}). Every shard is
 * opened and checked against the index on open; tensors are views of the files' mappings, valid
 * until {@link #close()}.
 */
public final class Checkpoint implements TensorSource, AutoCloseable {
    static final String SINGLE = "model.safetensors";
    static final String INDEX = "model.safetensors.index.json";
    private static final String SUFFIX = ".safetensors";
    private static final String GGUF_SUFFIX = ".gguf";

    private final Path path;
    private final List<SafetensorsFile> files;
    private final Map<String, SafetensorsFile> byName;
    private final Optional<ModelConfig> config;
    /** The GGUF file this checkpoint is, or null for safetensors. */
    private final GgufFile gguf;

    private Checkpoint(Path path, List<SafetensorsFile> files, Map<String, SafetensorsFile> byName,
                       Optional<ModelConfig> config) {
        this.path = path;
        this.files = List.copyOf(files);
        this.byName = Collections.unmodifiableMap(byName);
        this.config = config;
        this.gguf = null;
    }

    private Checkpoint(Path path, GgufFile gguf) {
        this.path = path;
        this.files = List.of();
        this.byName = Map.of();
        this.config = Optional.empty();
        this.gguf = gguf;
    }

    /**
     * Opens a {@code .gguf} file (by its extension or its magic) or a {@code .safetensors} file
     * alone, or a model folder: its {@code model.safetensors};
     * else its {@code model.safetensors.index.json} and every shard that names; else its one
     * {@code *.safetensors} file. All or nothing: on any error, whatever was opened is closed.
     *
     * @throws SafetensorsException naming the file, and the key where there is one, for a missing
     *                              or malformed file, index or shard
     * @throws GgufException naming the file for a malformed GGUF file
     * @throws dev.tornadonn.core.ConfigException naming the file for a malformed config.json or quantize_config.json
     */
    public static Checkpoint open(Path path) {
        if (Files.isDirectory(path)) {
            return openFolder(path);
        }
        if (!Files.exists(path)) {
            throw new SafetensorsException(path + ": no such file or model folder");
        }
        if (path.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(GGUF_SUFFIX) || GgufFile.hasMagic(path)) {
            return new Checkpoint(path, GgufFile.open(path));
        }
        return whole(path, SafetensorsFile.open(path), Optional.empty());
    }

    private static Checkpoint openFolder(Path dir) {
        Optional<ModelConfig> config = ModelConfig.read(dir); // first: it holds nothing open
        Path single = dir.resolve(SINGLE);
        if (Files.isRegularFile(single)) { // transformers looks for it before the index too
            return whole(dir, SafetensorsFile.open(single), config);
        }
        Path index = dir.resolve(INDEX);
        if (Files.isRegularFile(index)) {
            return sharded(dir, ShardIndex.read(index), config);
        }
        List<Path> found = safetensorsIn(dir);
        if (found.size() == 1) {
            return whole(dir, SafetensorsFile.open(found.get(0)), config);
        }
        throw new SafetensorsException("no " + SINGLE + " or " + INDEX + " in " + dir + (found.isEmpty()
                ? " (not a Hugging Face model folder?)"
                : "; it has " + found.size() + " " + SUFFIX + " files and no index to join them: "
                        + String.join(", ", found.stream().map(p -> p.getFileName().toString()).toList())
                        + " (open one of them by its path)"));
    }

    private static Checkpoint whole(Path path, SafetensorsFile file, Optional<ModelConfig> config) {
        Map<String, SafetensorsFile> byName = new LinkedHashMap<>();
        file.names().forEach(n -> byName.put(n, file));
        return new Checkpoint(path, List.of(file), byName, config);
    }

    private static Checkpoint sharded(Path dir, ShardIndex index, Optional<ModelConfig> config) {
        List<SafetensorsFile> opened = new ArrayList<>();
        try {
            Map<String, SafetensorsFile> shards = new LinkedHashMap<>();
            for (String shard : index.shards()) {
                Path file = dir.resolve(shard);
                if (!Files.isRegularFile(file)) {
                    String first = index.weightMap().entrySet().stream()
                            .filter(e -> e.getValue().equals(shard)).findFirst().orElseThrow().getKey();
                    throw new SafetensorsException(index.file() + ": shard " + shard + " (holding '" + first
                            + "', ...) is missing from " + dir);
                }
                SafetensorsFile f = SafetensorsFile.open(file);
                opened.add(f);
                shards.put(shard, f);
            }
            return new Checkpoint(dir, opened, ShardCheck.byName(index, shards), config);
        } catch (RuntimeException e) {
            closeAll(opened, e);
            throw e;
        }
    }

    private static List<Path> safetensorsIn(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(SUFFIX) && Files.isRegularFile(p)).sorted().toList();
        } catch (IOException e) {
            throw new SafetensorsException(dir + ": cannot list the model folder: " + e.getMessage(), e);
        }
    }

    /** The file or folder this was opened from. */
    public Path path() {
        return path;
    }

    /** The files behind it: the GGUF file, or one safetensors file, or every shard the index names. */
    public List<Path> files() {
        return gguf != null ? List.of(gguf.path()) : files.stream().map(SafetensorsFile::path).toList();
    }

    /** The GGUF file this checkpoint is (its metadata, its tensor types), if it is one. */
    public Optional<GgufFile> gguf() {
        return Optional.ofNullable(gguf);
    }

    @Override
    public Optional<GgmlType> ggmlType(String name) {
        return gguf == null ? Optional.empty() : gguf.ggmlType(name);
    }

    /** The folder's config.json and quantize_config.json; empty for a single file or a folder without them. */
    public Optional<ModelConfig> config() {
        return config;
    }

    @Override
    public Set<String> names() {
        return gguf != null ? gguf.names() : byName.keySet();
    }

    @Override
    public Tensor get(String name) {
        if (gguf != null) {
            return gguf.get(name);
        }
        SafetensorsFile f = byName.get(name);
        if (f == null) {
            throw new WeightLoadException("missing key '" + name + "' in " + describe() + KeyHints.didYouMean(name, names()));
        }
        return f.get(name);
    }

    /** The header entry for {@code name} (dtype, shape) without reading its data, or null if there is none. */
    public TensorInfo info(String name) {
        if (gguf != null) {
            return gguf.info(name);
        }
        SafetensorsFile f = byName.get(name);
        return f == null ? null : f.info(name);
    }

    @Override
    public String describe() {
        return path.toString();
    }

    /** Unmaps every file; tensors obtained from it must not be used afterwards. */
    @Override
    public void close() {
        if (gguf != null) {
            gguf.close();
            return;
        }
        RuntimeException failure = null;
        for (SafetensorsFile f : files) {
            try {
                f.close();
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    private static void closeAll(List<SafetensorsFile> opened, RuntimeException cause) {
        for (SafetensorsFile f : opened) {
            try {
                f.close();
            } catch (RuntimeException e) {
                cause.addSuppressed(e);
            }
        }
    }
}

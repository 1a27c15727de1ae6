package dev.tornadonn.core.io;

import java.io.IOException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * A {@code model.safetensors.index.json}: which shard file, relative to the folder, holds each
 * tensor. File names are checked lexically, not resolved: in a Hugging Face cache the shards are
 * symlinks into {@code ../../blobs}, which is fine, but a name that climbs out is not.
 *
 * @param file      the index file, for messages
 * @param weightMap tensor name → normalised shard file name, in the index's order
 */
record ShardIndex(Path file, Map<String, String> weightMap) {

    static ShardIndex read(Path file) {
        Object root;
        try {
            root = Json.read(file);
        } catch (IOException e) {
            throw new SafetensorsException(file + ": cannot read the shard index: " + Json.reason(e), e);
        }
        if (!(root instanceof Map<?, ?> object)) {
            throw new SafetensorsException(file + ": the shard index must be a JSON object");
        }
        if (!(object.get("weight_map") instanceof Map<?, ?> map)) {
            throw new SafetensorsException(file + ": weight_map must be an object of tensor name → shard file, got "
                    + Json.render(object.get("weight_map")));
        }
        Map<String, String> weightMap = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : Json.object(map).entrySet()) {
            weightMap.put(e.getKey(), shardName(file, e.getKey(), e.getValue()));
        }
        return new ShardIndex(file, Collections.unmodifiableMap(weightMap));
    }

    /** Every shard file, by name: model-00001-of-00003 first. */
    List<String> shards() {
        return List.copyOf(new TreeSet<>(weightMap.values()));
    }

    private static String shardName(Path file, String key, Object value) {
        String where = file + ": weight_map['" + key + "']";
        if (!(value instanceof String name) || name.isBlank()) {
            throw new SafetensorsException(where + " must name a shard file, got " + Json.render(value));
        }
        Path p;
        try {
            p = Path.of(name);
        } catch (InvalidPathException e) {
            throw new SafetensorsException(where + " = '" + name + "' is not a file name: " + e.getReason(), e);
        }
        boolean climbs = false;
        for (Path part : p) {
            climbs |= part.toString().equals("..");
        }
        if (p.isAbsolute() || name.startsWith("/") || name.startsWith("\\") || climbs) {
            throw new SafetensorsException(where + " = '" + name
                    + "' escapes the model folder: shard files must lie inside it, named relative to it");
        }
        return p.normalize().toString();
    }
}

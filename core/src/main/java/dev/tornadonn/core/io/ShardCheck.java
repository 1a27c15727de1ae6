package dev.tornadonn.core.io;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Holds a sharded checkpoint to its index: each tensor in exactly the one shard the index names. */
final class ShardCheck {
    private ShardCheck() {}

    /** Tensor name → its open shard, in the index's order; an error naming the key and files otherwise. */
    static Map<String, SafetensorsFile> byName(ShardIndex index, Map<String, SafetensorsFile> shards) {
        Map<String, List<String>> holders = new LinkedHashMap<>();
        shards.forEach((shard, file) -> file.names().forEach(
                n -> holders.computeIfAbsent(n, k -> new ArrayList<>()).add(shard)));
        for (Map.Entry<String, List<String>> e : holders.entrySet()) {
            String key = e.getKey();
            List<String> in = e.getValue();
            if (in.size() > 1) {
                throw new SafetensorsException(index.file() + ": tensor '" + key + "' is stored in more than one shard: "
                        + String.join(" and ", in));
            }
            String mapped = index.weightMap().get(key);
            if (mapped == null) {
                throw new SafetensorsException(index.file() + ": tensor '" + key + "' in shard " + in.get(0)
                        + " is not in the index's weight_map");
            }
            if (!mapped.equals(in.get(0))) {
                throw new SafetensorsException(index.file() + ": weight_map puts '" + key + "' in " + mapped
                        + ", but it is stored in " + in.get(0));
            }
        }
        Map<String, SafetensorsFile> byName = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : index.weightMap().entrySet()) {
            String key = e.getKey();
            if (!holders.containsKey(key)) {
                SafetensorsFile shard = shards.get(e.getValue());
                throw new SafetensorsException(index.file() + ": weight_map puts '" + key + "' in " + e.getValue()
                        + ", which has no such tensor" + KeyHints.didYouMean(key, shard.names()));
            }
            byName.put(key, shards.get(e.getValue()));
        }
        return byName;
    }
}

package dev.tornadonn.layers;

import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.Weight;
import dev.tornadonn.core.WeightLoadException;
import dev.tornadonn.core.io.KeyHints;
import dev.tornadonn.core.io.TensorSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Reads exactly the declared weights from a source, or nothing: every problem (missing key,
 * unexpected key under the prefix, wrong dtype or shape) is collected into one exception before
 * any tensor is used.
 */
public final class StrictLoader {
    private StrictLoader() {}

    public static Map<String, Tensor> load(TensorSource source, String prefix, List<Weight> declared) {
        List<String> problems = new ArrayList<>();
        Map<String, Tensor> found = new LinkedHashMap<>();
        Set<String> names = source.names();
        Set<String> expected = declared.stream().map(Weight::name).collect(Collectors.toSet());
        for (Weight w : declared) {
            if (!names.contains(w.name())) {
                problems.add("missing key '" + w.name() + "' (expected " + w.dtype() + " " + w.shape() + ")"
                        + KeyHints.didYouMean(w.name(), names.stream().filter(n -> !expected.contains(n)).toList()));
                continue;
            }
            try {
                found.put(w.name(), w.check(source.get(w.name())));
            } catch (WeightLoadException e) {
                problems.add(e.getMessage());
            }
        }
        for (String name : names) {
            if (Keys.isUnder(name, prefix) && !expected.contains(name)) {
                problems.add("unexpected key '" + name + "'"
                        + (prefix == null || prefix.isEmpty() ? "" : " under prefix '" + prefix + "'"));
            }
        }
        if (!problems.isEmpty()) {
            throw new WeightLoadException(source.describe() + ": " + String.join("; ", problems)
                    + " (the layer expects: " + declared.stream().map(Weight::name).collect(Collectors.joining(", ")) + ")");
        }
        return found;
    }
}

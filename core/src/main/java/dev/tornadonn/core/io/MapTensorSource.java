package dev.tornadonn.core.io;

import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.WeightLoadException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

record MapTensorSource(Map<String, Tensor> tensors) implements TensorSource {
    MapTensorSource {
        tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
    }

    @Override
    public Set<String> names() {
        return tensors.keySet();
    }

    @Override
    public Tensor get(String name) {
        Tensor t = tensors.get(name);
        if (t == null) {
            throw new WeightLoadException("missing key '" + name + "' in " + describe() + KeyHints.didYouMean(name, names()));
        }
        return t;
    }

    @Override
    public String describe() {
        return "in-memory tensors";
    }
}

package dev.tornadonn.core.io;

import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.WeightLoadException;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** Named tensors to load layers from: a safetensors file, or a map built in memory. */
public interface TensorSource {

    /** Every key, in a stable order. */
    Set<String> names();

    /** The tensor stored under {@code name}, or a {@link WeightLoadException} naming the key. */
    Tensor get(String name);

    default boolean contains(String name) {
        return names().contains(name);
    }

    /**
     * The ggml type of a GGUF tensor (whose {@link #get} is its raw blocks, for a block-quantised
     * type); empty for a tensor of any other source, or none.
     */
    default Optional<GgmlType> ggmlType(String name) {
        return Optional.empty();
    }

    /** Where the tensors come from, for error messages. */
    String describe();

    static TensorSource of(Map<String, Tensor> tensors) {
        return new MapTensorSource(tensors);
    }
}

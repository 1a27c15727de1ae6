package dev.tornadonn.core.io;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.Shape;

/** A safetensors header entry: where a tensor's bytes lie in the data section. */
public record TensorInfo(String name, DType dtype, Shape shape, long begin, long end) {}

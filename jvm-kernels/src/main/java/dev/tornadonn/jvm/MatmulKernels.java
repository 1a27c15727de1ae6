package dev.tornadonn.jvm;

import dev.tornadonn.core.DType;
import java.lang.foreign.MemorySegment;

/**
 * The host implementations of {@code y = x · wᵀ (+ bias)}: a plain scalar one, and a Vector API
 * one chosen at run time when the CPU and JVM support it. They are tested against each other and
 * against the float64 oracle.
 */
interface MatmulKernels {

    /** A short name for logs: {@code scalar} or {@code vector-512} and the like. */
    String name();

    /**
     * @param x     {@code (m, k)} row-major
     * @param w     {@code (n, k)} row-major, little-endian F32, BF16 or F16 elements
     * @param bias  {@code (n,)} or null
     * @param y     {@code (m, n)} row-major; every element is written
     */
    default void linear(float[] x, int m, int k, MemorySegment w, DType wType, int n, float[] bias, float[] y) {
        linear(x, m, k, w, wType, n, bias, y, null);
    }

    /**
     * As above, with an f16 weight's subnormals found beforehand ({@link DenseLayout} keeps them);
     * null: found here when a kernel needs them, at the cost of a pass over the weight.
     */
    void linear(float[] x, int m, int k, MemorySegment w, DType wType, int n, float[] bias, float[] y,
                F16Subnormals subnormals);

    /**
     * Whether {@link #packedGemm} takes {@code m} rows of x: false in the scalar kernels and for
     * few rows, where each weight row is decoded once and dotted with every row of x instead.
     */
    default boolean packs(int m) {
        return false;
    }

    /**
     * {@code y = x·wᵀ + bias} for {@code m} rows of x ({@code (m, k)}) by the register-blocked GEMM
     * over a weight that decodes a K block at a time; only where {@link #packs} says so.
     */
    default void packedGemm(float[] x, int m, int k, DecodedRows w, int n, float[] bias, float[] y) {
        throw new UnsupportedOperationException(name() + " has no packed GEMM");
    }

    /** GGUF blocks decoded as {@link dev.tornadonn.core.weights.GgufBlocks#decode} decodes them, bit for bit. */
    default void decodeGguf(dev.tornadonn.core.io.GgmlType type, byte[] src, int from, int count, float[] out, int outAt) {
        dev.tornadonn.core.weights.GgufBlocks.decode(type, src, from, count, out, outAt);
    }
}

package dev.tornadonn.core.backend;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;

/**
 * The {@code (M, K, N)} of {@code y = x · wᵀ + bias}, read after every operand's shape and dtype is
 * checked: what each backend's {@link Backend#linear} checks before it runs a kernel.
 */
public record LinearShapes(int m, int k, int n) {

    public static LinearShapes check(Tensor x, Tensor w, Tensor bias, Tensor y) {
        requireRank2(x, "x");
        requireRank2(y, "y");
        if (w.shape().rank() != 2) {
            throw new IllegalArgumentException("weight must be rank 2 (out, in), got " + w.shape());
        }
        int m = x.shape().dim(0);
        int k = x.shape().dim(1);
        int n = w.shape().dim(0);
        if (w.shape().dim(1) != k) {
            throw new IllegalArgumentException("x " + x.shape() + " and weight " + w.shape() + " disagree on K");
        }
        if (!y.shape().equals(Shape.of(m, n))) {
            throw new IllegalArgumentException("y must be " + Shape.of(m, n) + ", got " + y.shape());
        }
        if (bias != null && !bias.shape().equals(Shape.of(n))) {
            throw new IllegalArgumentException("bias must be " + Shape.of(n) + ", got " + bias.shape());
        }
        return new LinearShapes(m, k, n);
    }

    /** Rank 2 and F32: the activations every kernel reads and writes. */
    public static void requireRank2(Tensor t, String what) {
        if (t.shape().rank() != 2 || t.dtype() != DType.F32) {
            throw new IllegalArgumentException(what + " must be a rank-2 F32 tensor, got " + t);
        }
    }
}

package dev.tornadonn.core.backend;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.DType;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;

/**
 * The {@code (M, K, N)} of {@code y = x · wᵀ + bias}, read after every operand's shape and dtype is
 * checked: what each backend's {@link Backend#linear} checks before it runs a kernel.
 */
public record LinearShapes(int m, int k, int n) {

    public static LinearShapes check(Tensor x, PreparedMatrix w, Tensor y) {
        require(x, w, y);
        return new LinearShapes(x.shape().dim(0), x.shape().dim(1), w.rows());
    }

    /**
     * The checks of {@link #check} without the record, for a backend whose steady-state call
     * allocates nothing (the record escapes {@code check}, which is too large to inline).
     */
    public static void require(Tensor x, PreparedMatrix w, Tensor y) {
        requireRank2(x, "x");
        requireRank2(y, "y");
        int m = x.shape().dim(0);
        int k = x.shape().dim(1);
        int n = w.rows();
        if (w.cols() != k) {
            throw new ConfigException("x " + x.shape() + " and the " + w.rows() + " x " + w.cols()
                    + " weight disagree on K");
        }
        if (y.shape().dim(0) != m || y.shape().dim(1) != n) { // y is rank 2; no Shape made unless it is wrong
            throw new ConfigException("y must be " + Shape.of(m, n) + ", got " + y.shape());
        }
        if (!x.device().equals(w.device()) || !y.device().equals(w.device())) {
            throw new ConfigException("x on " + x.device() + " and y on " + y.device() + " must be on the weight's device "
                    + w.device());
        }
    }

    /** Rank 2 and F32: the activations every kernel reads and writes. */
    public static void requireRank2(Tensor t, String what) {
        if (t.shape().rank() != 2 || t.dtype() != DType.F32) {
            throw new ConfigException(what + " must be a rank-2 F32 tensor, got " + t);
        }
    }

    /**
     * The row blocks of one {@link Backend#prepare} call: at least one, one kind, the same input
     * features, and a bias of their total rows. Returns the total rows.
     */
    public static int checkBlocks(java.util.List<? extends dev.tornadonn.core.weights.WeightMatrix> blocks, Tensor bias) {
        if (blocks.isEmpty()) {
            throw new ConfigException("nothing to prepare: no weight blocks");
        }
        var first = blocks.get(0);
        long rows = 0;
        for (var b : blocks) {
            if (b.kind() != first.kind() || b.cols() != first.cols()) {
                throw new ConfigException("weight blocks stacked into one must share their kind and input features: "
                        + first.kind() + " x " + first.cols() + " and " + b.kind() + " x " + b.cols());
            }
            rows += b.rows();
        }
        int total = Math.toIntExact(rows);
        if (bias != null && (!bias.shape().equals(Shape.of(total)) || !bias.dtype().isFloatingPoint())) {
            throw new ConfigException("bias must be a float " + Shape.of(total) + ", got " + bias);
        }
        return total;
    }
}

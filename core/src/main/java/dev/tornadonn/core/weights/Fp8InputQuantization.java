package dev.tornadonn.core.weights;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.numeric.Float8Format;
import java.util.Objects;

/**
 * What happens to x before the product with an fp8 weight: it is quantised to fp8
 * ({@link Quantised}), or it enters the product as it is ({@link WeightOnly}, W8A16).
 */
public sealed interface Fp8InputQuantization {

    /** The k-extent of one input scale, or 0 when a scale spans the whole row. */
    default int blockCols() {
        return 0;
    }

    /** A few words for messages, e.g. {@code dynamic per token}. */
    default String describe() {
        return switch (this) {
            case Static s -> "static";
            case DynamicPerTensor t -> "dynamic per tensor";
            case DynamicPerToken t -> "dynamic per token";
            case DynamicBlock b -> "dynamic blocks of " + b.blockCols();
            case WeightOnly w -> "not quantised (weight-only)";
        };
    }

    /**
     * x quantised to fp8. Dynamic scales are {@code min(max|x|, ub) / FMAX} over their
     * granularity, computed in f32 (ub = +∞ when there is no upper bound); a static scale comes
     * from the checkpoint. Either way {@code xq = fp8(x · (1/s))} with round-to-nearest-even and
     * saturation, and a zero scale (an all-zero group) quantises to zeros rather than NaN.
     */
    sealed interface Quantised extends Fp8InputQuantization {
        /** The format x is rounded to. */
        Float8Format format();
    }

    /**
     * x is not quantised: the weight is fp8, the activations stay in their own precision
     * (compressed-tensors' W8A16, vLLM's fp8 Marlin path): {@code y = Σ x · wq·sw}.
     */
    record WeightOnly() implements Fp8InputQuantization {}

    record Static(Float8Format format, float scale) implements Quantised {
        public Static {
            Objects.requireNonNull(format, "format");
            if (!(scale > 0) || !Float.isFinite(scale)) {
                throw new ConfigException("a static input scale must be finite and > 0, got " + scale);
            }
        }
    }

    record DynamicPerTensor(Float8Format format, float upperBound) implements Quantised {
        public DynamicPerTensor {
            Objects.requireNonNull(format, "format");
            checkBound(upperBound);
        }
    }

    /** One scale per row of x (per token). */
    record DynamicPerToken(Float8Format format, float upperBound) implements Quantised {
        public DynamicPerToken {
            Objects.requireNonNull(format, "format");
            checkBound(upperBound);
        }
    }

    /** One scale per row of x and block of {@code blockCols} columns. */
    record DynamicBlock(Float8Format format, int blockCols, float upperBound) implements Quantised {
        public DynamicBlock {
            Objects.requireNonNull(format, "format");
            if (blockCols <= 0) {
                throw new ConfigException("blockCols must be positive, got " + blockCols);
            }
            checkBound(upperBound);
        }
    }

    private static void checkBound(float ub) {
        if (!(ub > 0)) {
            throw new ConfigException("the activation scale upper bound must be > 0 (+inf for none), got " + ub);
        }
    }
}

package dev.tornadonn.layers.quant;

import dev.tornadonn.core.ConfigException;
import java.util.Objects;

/**
 * How x is quantised to fp8 before the product, if at all.
 *
 * <ul>
 *   <li>STATIC TENSOR: one scale read from the checkpoint ({@code input_scale}).
 *   <li>DYNAMIC TENSOR, COLWISE (per token) or BLOCK {@code (1, bk)}: scales computed per call as
 *       {@code min(max|x|, ub) / FMAX}, with {@code ub = activationScaleUb} or no bound when null
 *       (MAX hard-codes 1200 and ignores the config; here the config's value is used).
 *   <li>NONE: x is not quantised (weight-only fp8, compressed-tensors' W8A16); written TENSOR
 *       with no bound, as it has no scale at all.
 * </ul>
 *
 * Static scales other than TENSOR cannot come from a checkpoint scalar and are rejected, as is
 * ROWWISE (MAX rejects it too) and a bound on a static scale (it would never be used).
 */
public record Float8InputScaleSpec(Float8ScaleGranularity granularity, Float8ScaleOrigin origin,
                                   Float activationScaleUb, Float8BlockSize blockSize) {

    public Float8InputScaleSpec {
        Objects.requireNonNull(granularity, "granularity");
        Objects.requireNonNull(origin, "origin");
        if (granularity == Float8ScaleGranularity.ROWWISE) {
            throw new ConfigException("unsupported input scale granularity ROWWISE: use TENSOR, COLWISE (per token) or BLOCK");
        }
        if (origin == Float8ScaleOrigin.STATIC && granularity != Float8ScaleGranularity.TENSOR) {
            throw new ConfigException("a STATIC input scale must be TENSOR (a checkpoint scalar), got " + granularity);
        }
        if (origin != Float8ScaleOrigin.DYNAMIC && activationScaleUb != null) {
            throw new ConfigException("activation_scale_ub applies to dynamic input scales only, but the input scale is " + origin);
        }
        if (origin == Float8ScaleOrigin.NONE && granularity != Float8ScaleGranularity.TENSOR) {
            throw new ConfigException("an input that is not quantised (NONE) has no scale granularity: write TENSOR, got " + granularity);
        }
        if (activationScaleUb != null && !(activationScaleUb > 0 && Float.isFinite(activationScaleUb))) {
            throw new ConfigException("activation_scale_ub must be finite and > 0, got " + activationScaleUb);
        }
        if (granularity == Float8ScaleGranularity.BLOCK) {
            if (blockSize == null) {
                throw new ConfigException("a BLOCK input scale needs a block size (1, bk)");
            }
            if (blockSize.rows() != 1) {
                throw new ConfigException("a BLOCK input scale must be (1, bk) (per token and k block), got " + blockSize);
            }
        } else if (blockSize != null) {
            throw new ConfigException("a " + granularity + " input scale takes no block size, got " + blockSize);
        }
    }

    public static Float8InputScaleSpec staticTensor() {
        return new Float8InputScaleSpec(Float8ScaleGranularity.TENSOR, Float8ScaleOrigin.STATIC, null, null);
    }

    /** One scale over the whole input, each call; {@code ub} null for no bound. */
    public static Float8InputScaleSpec dynamicTensor(Float ub) {
        return new Float8InputScaleSpec(Float8ScaleGranularity.TENSOR, Float8ScaleOrigin.DYNAMIC, ub, null);
    }

    /** One scale per token (row of x), each call; {@code ub} null for no bound. */
    public static Float8InputScaleSpec dynamicPerToken(Float ub) {
        return new Float8InputScaleSpec(Float8ScaleGranularity.COLWISE, Float8ScaleOrigin.DYNAMIC, ub, null);
    }

    /** One scale per token and block of {@code bk} columns, each call; {@code ub} null for no bound. */
    public static Float8InputScaleSpec dynamicBlock(int bk, Float ub) {
        return new Float8InputScaleSpec(Float8ScaleGranularity.BLOCK, Float8ScaleOrigin.DYNAMIC, ub, new Float8BlockSize(1, bk));
    }

    /** x, unquantised, times fp8 weights (W8A16). */
    public static Float8InputScaleSpec weightOnly() {
        return new Float8InputScaleSpec(Float8ScaleGranularity.TENSOR, Float8ScaleOrigin.NONE, null, null);
    }

    public boolean isStatic() {
        return origin == Float8ScaleOrigin.STATIC;
    }

    /** Whether x is left unquantised (weight-only fp8). */
    public boolean isWeightOnly() {
        return origin == Float8ScaleOrigin.NONE;
    }

    /** The bound as the kernels use it: +∞ when there is none. */
    public float upperBound() {
        return activationScaleUb == null ? Float.POSITIVE_INFINITY : activationScaleUb;
    }

    @Override
    public String toString() {
        if (isWeightOnly()) {
            return "NONE (weight-only)";
        }
        return origin + " " + granularity + (blockSize == null ? "" : " " + blockSize)
                + (activationScaleUb == null ? "" : " ub=" + activationScaleUb);
    }
}

package dev.tornadonn.reference;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import java.util.SplittableRandom;

/**
 * Random test tensors: uniform in [-1, 1], with about one element in 64 replaced by a boundary
 * value (±0, the dtype's smallest subnormal, ±4). Values are stored in the dtype, so the oracle
 * decodes exactly what the backend reads.
 */
public final class RandomTensors {
    private RandomTensors() {}

    public static Tensor uniform(DType dtype, Shape shape, SplittableRandom rnd) {
        Tensor t = Tensor.allocate(dtype, shape);
        long n = t.numel();
        for (long i = 0; i < n; i++) {
            t.setFloat(i, sample(dtype, rnd));
        }
        return t;
    }

    private static float sample(DType dtype, SplittableRandom rnd) {
        if (rnd.nextInt(64) != 0) {
            return (float) (rnd.nextDouble() * 2 - 1);
        }
        return switch (rnd.nextInt(5)) {
            case 0 -> 0f;
            case 1 -> -0f;
            case 2 -> smallestSubnormal(dtype) * (rnd.nextBoolean() ? 1 : -1);
            case 3 -> 4f;
            default -> -4f;
        };
    }

    private static float smallestSubnormal(DType dtype) {
        return switch (dtype) {
            case F16 -> 0x1p-24f;
            case BF16 -> 0x1p-133f;
            case F8_E4M3FN -> 0x1p-9f;
            case F8_E5M2 -> 0x1p-16f;
            default -> Float.MIN_VALUE;
        };
    }
}

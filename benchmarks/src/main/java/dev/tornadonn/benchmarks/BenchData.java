package dev.tornadonn.benchmarks;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import java.util.SplittableRandom;

/** Reproducible random inputs shared by the benchmarks: uniform in [-1, 1) from a fixed seed. */
final class BenchData {
    /** Every benchmark draws from this seed, so runs and kernels see the same numbers. */
    static final long SEED = 0x5EED_7042L;

    private BenchData() {}

    /** {@code count} floats uniform in [-1, 1). */
    static float[] uniform(SplittableRandom rng, int count) {
        float[] v = new float[count];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (rng.nextDouble() * 2.0 - 1.0);
        }
        return v;
    }

    /** A {@code rows × cols} tensor of {@code dtype} (values rounded to nearest even where they must be). */
    static Tensor matrix(SplittableRandom rng, DType dtype, int rows, int cols) {
        return Tensor.of(dtype, Shape.of(rows, cols), uniform(rng, Math.multiplyExact(rows, cols)));
    }
}

package dev.tornadonn.benchmarks;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import java.util.SplittableRandom;

/**
 * Reproducible random inputs shared by the benchmarks, from a fixed seed: activations uniform in
 * [-1, 1), weights drawn as a trained layer's are (normal, standard deviation 1/sqrt(in)), so that
 * f16 weights have the share of subnormals real checkpoints have.
 */
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

    /** {@code rows × cols} weights, normal with standard deviation {@code 1/sqrt(cols)}, as floats. */
    static float[] weights(SplittableRandom rng, int rows, int cols) {
        float[] v = new float[Math.multiplyExact(rows, cols)];
        double std = 1 / Math.sqrt(cols);
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (rng.nextGaussian() * std);
        }
        return v;
    }

    /** A {@code rows × cols} activation tensor of {@code dtype} (values rounded to nearest even where they must be). */
    static Tensor matrix(SplittableRandom rng, DType dtype, int rows, int cols) {
        return Tensor.of(dtype, Shape.of(rows, cols), uniform(rng, Math.multiplyExact(rows, cols)));
    }

    /** A {@code rows × cols} weight tensor of {@code dtype}, drawn by {@link #weights}. */
    static Tensor weightMatrix(SplittableRandom rng, DType dtype, int rows, int cols) {
        return Tensor.of(dtype, Shape.of(rows, cols), weights(rng, rows, cols));
    }
}

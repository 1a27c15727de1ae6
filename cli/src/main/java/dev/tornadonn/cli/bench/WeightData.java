package dev.tornadonn.cli.bench;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Random weights distributed as a trained checkpoint's are, normal with standard deviation
 * 1/sqrt(in_dim) (the columns), not uniform in [-1, 1): the FP8 and GPTQ decoders and the
 * activations see values of a real layer's size and spread. Drawn once per shape and shared by every format of that shape: the
 * 1 GiB GEMV's floats take seconds to draw and as much heap. The last three matrices are kept
 * (an MLP needs three).
 */
public final class WeightData {
    private static final long SEED = 0x5EED_7042L;
    private static final int KEEP = 3;

    private final Map<String, float[]> cache = new LinkedHashMap<>(8, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, float[]> eldest) {
            return size() > KEEP;
        }
    };

    /** The {@code index}-th {@code rows × cols} weight matrix (in_dim = cols), row-major: N(0, 1/cols). */
    public float[] matrix(int rows, int cols, int index) {
        return cache.computeIfAbsent(rows + "x" + cols + "#" + index,
                key -> normal(new SplittableRandom(SEED + 31L * index + rows * 7L + cols), Math.multiplyExact(rows, cols),
                        1.0 / Math.sqrt(cols)));
    }

    /** Lets the garbage collector have the floats once a suite is done. */
    public void clear() {
        cache.clear();
    }

    static float[] normal(SplittableRandom rng, int count, double std) {
        float[] v = new float[count];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (rng.nextGaussian() * std);
        }
        return v;
    }

    /** Uniform in [-1, 1): the inputs x. */
    static float[] uniform(SplittableRandom rng, int count) {
        float[] v = new float[count];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (rng.nextDouble() * 2.0 - 1.0);
        }
        return v;
    }
}

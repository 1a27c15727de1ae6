package dev.tornadonn.jvm;

import dev.tornadonn.core.DType;
import java.lang.foreign.MemorySegment;

/**
 * The plain path: decode one weight row, then one dot product per input row. For CPUs without
 * useful vectors, and as the twin the vector kernels are tested against.
 */
final class ScalarKernels implements MatmulKernels {
    private static final int ROWS_PER_TASK = 64;

    @Override
    public String name() {
        return "scalar";
    }

    @Override
    public void linear(float[] x, int m, int k, MemorySegment w, DType wType, int n, float[] bias, float[] y) {
        int tasks = (n + ROWS_PER_TASK - 1) / ROWS_PER_TASK;
        Parallel.forEach(tasks, t -> {
            float[] row = new float[k];
            int end = Math.min(n, (t + 1) * ROWS_PER_TASK);
            for (int j = t * ROWS_PER_TASK; j < end; j++) {
                WeightRows.decode(w, wType, k, j, 0, k, row);
                float b = bias == null ? 0f : bias[j];
                for (int i = 0; i < m; i++) {
                    float acc = 0f;
                    int xo = i * k;
                    for (int p = 0; p < k; p++) {
                        acc += x[xo + p] * row[p];
                    }
                    y[i * n + j] = acc + b;
                }
            }
        });
    }
}

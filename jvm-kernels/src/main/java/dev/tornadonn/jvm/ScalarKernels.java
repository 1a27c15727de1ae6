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

    /** Ignores {@code subnormals}: it decodes every weight exactly, one at a time. */
    @Override
    public void linear(float[] x, int m, int k, MemorySegment w, DType wType, int n, float[] bias, float[] y,
                       F16Subnormals subnormals) {
        Rows task = ROWS.get();
        task.start(x, m, k, w, wType, n, bias, y);
        try {
            Parallel.forEach((n + ROWS_PER_TASK - 1) / ROWS_PER_TASK, task);
        } finally {
            task.start(null, 0, 0, null, null, 0, null, null);
        }
    }

    private static final ThreadLocal<Rows> ROWS = ThreadLocal.withInitial(Rows::new);
    private static final Scratch.Key ROW = Scratch.key("a weight row decoded, in the scalar kernels");

    /** {@value #ROWS_PER_TASK} weight rows per task; the calling thread reuses it from call to call. */
    private static final class Rows implements java.util.function.IntConsumer {
        private float[] x;
        private int m;
        private int k;
        private MemorySegment w;
        private DType wType;
        private int n;
        private float[] bias;
        private float[] y;

        void start(float[] x, int m, int k, MemorySegment w, DType wType, int n, float[] bias, float[] y) {
            this.x = x;
            this.m = m;
            this.k = k;
            this.w = w;
            this.wType = wType;
            this.n = n;
            this.bias = bias;
            this.y = y;
        }

        @Override
        public void accept(int t) {
            float[] row = Scratch.current().floats(ROW, k);
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
        }
    }
}

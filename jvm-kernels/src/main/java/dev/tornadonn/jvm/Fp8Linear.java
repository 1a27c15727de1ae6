package dev.tornadonn.jvm;

/**
 * {@code y = x·wᵀ + bias} for an {@link Fp8Layout}: x quantised once, then the fused GEMV or the
 * decode-a-row path.
 * Its parallel parts are task objects the calling thread reuses (a capturing lambda is a new
 * object per call), their fields cleared after each call so that no weight stays reachable
 * through them; their buffers come from the running thread's {@link Scratch}.
 */
final class Fp8Linear {
    private static final Scratch.Key FP8_X = Scratch.key("x quantised to fp8");
    private static final Scratch.Key FP8_X_SCALES = Scratch.key("x's fp8 scales");
    private static final Scratch.Key ROW = Scratch.key("an fp8 weight row decoded");
    private static final Scratch.Key ROWS_OUT = Scratch.key("a block of fp8 rows' results");

    private Fp8Linear() {}

    /**
     * x is quantised once. A few rows of x (and no NaN or infinity codes) take the fused kernel,
     * {@value Fp8Kernels#ROWS} weight rows per call with the decode in registers; more rows decode
     * each weight row once into a buffer and sum per-segment f32 partial products with it, each
     * scaled by its input and weight scales; many rows take the packed GEMM.
     */
    static void run(MatmulKernels kernels, Fp8Kernels fp8, float[] x, int m, Fp8Layout w, float[] bias, float[] y) {
        int k = w.cols();
        int n = w.rows();
        int segs = w.segments();
        Scratch scratch = Scratch.current();
        float[] xq = scratch.floats(FP8_X, Math.multiplyExact(m, k));
        float[] sx = scratch.floats(FP8_X_SCALES, Math.multiplyExact(m, segs));
        fp8.quantiseInput(x, m, w, xq, sx);
        if (m <= VectorKernels.GEMV_MAX_M && !w.hasSpecials()) {
            Fp8Gemv task = FP8_GEMV.get();
            task.start(fp8, w, fp8.arrangeInput(w, xq, m), xq, sx, m, bias, y);
            try {
                Parallel.forRows(n, Fp8Kernels.ROWS, task);
            } finally {
                task.clear();
            }
            return;
        }
        if (kernels.packs(m)) {
            // Both sides' scales folded into their values (xq·sx and w·ws per segment), so that
            // the sum over segments is one dot product: the same terms, each rounded once more.
            float[] xs = scratch.floats(SCALED_X, Math.multiplyExact(m, k));
            int[] start = w.segmentStart();
            for (int i = 0; i < m; i++) {
                for (int s = 0; s < segs; s++) {
                    scale(xq, i * k + start[s], start[s + 1] - start[s], sx[i * segs + s], xs, i * k + start[s]);
                }
            }
            ScaledRows rows = SCALED_ROWS.get();
            rows.start(fp8, w);
            try {
                kernels.packedGemm(xs, m, k, rows, n, bias, y);
            } finally {
                rows.start(null, null);
            }
            return;
        }
        Fp8Rows task = FP8_ROWS.get();
        task.start(fp8, w, null, xq, sx, m, bias, y);
        try {
            Parallel.forRows(n, task);
        } finally {
            task.clear();
        }
    }

    private static final ThreadLocal<Fp8Gemv> FP8_GEMV = ThreadLocal.withInitial(Fp8Gemv::new);
    private static final ThreadLocal<Fp8Rows> FP8_ROWS = ThreadLocal.withInitial(Fp8Rows::new);
    private static final ThreadLocal<ScaledRows> SCALED_ROWS = ThreadLocal.withInitial(ScaledRows::new);
    private static final Scratch.Key SCALED_X = Scratch.key("x's fp8 values times their scales, for the GEMM");

    /** {@code to[t + i] = from[f + i]·factor} for i below len. */
    private static void scale(float[] from, int f, int len, float factor, float[] to, int t) {
        for (int i = 0; i < len; i++) {
            to[t + i] = from[f + i] * factor;
        }
    }

    /** An fp8 weight's rows as the packed GEMM reads them: codes decoded, times each segment's weight scale. */
    private static final class ScaledRows implements DecodedRows {
        private Fp8Kernels kernels;
        private Fp8Layout w;

        void start(Fp8Kernels kernels, Fp8Layout w) {
            this.kernels = kernels;
            this.w = w;
        }

        @Override
        public void decode(int row, int from, int len, float[] out, int at) {
            kernels.decodeColumns(w, row, from, len, out, at);
            int segs = w.segments();
            int[] start = w.segmentStart();
            for (int s = 0; s < segs; s++) {
                int lo = Math.max(start[s], from);
                int hi = Math.min(start[s + 1], from + len);
                if (lo < hi) {
                    scale(out, at + lo - from, hi - lo, w.weightScales()[row * segs + s], out, at + lo - from);
                }
            }
        }
    }

    /** The fields of an fp8 task. */
    private abstract static class Fp8Task implements Parallel.RowRange {
        Fp8Kernels kernels;
        Fp8Layout w;
        float[] xa;
        float[] xq;
        float[] sx;
        int m;
        float[] bias;
        float[] y;

        void start(Fp8Kernels kernels, Fp8Layout w, float[] xa, float[] xq, float[] sx, int m, float[] bias, float[] y) {
            this.kernels = kernels;
            this.w = w;
            this.xa = xa;
            this.xq = xq;
            this.sx = sx;
            this.m = m;
            this.bias = bias;
            this.y = y;
        }

        void clear() {
            start(null, null, null, null, null, 0, null, null);
        }
    }

    /** An fp8 GEMV's rows, {@value Fp8Kernels#ROWS} at a time, for each row of x. */
    private static final class Fp8Gemv extends Fp8Task {
        @Override
        public void run(int from, int to) {
            int k = w.cols();
            int n = w.rows();
            int segs = w.segments();
            float[] out = Scratch.current().floats(ROWS_OUT, Fp8Kernels.ROWS);
            for (int j = from; j < to; j += Fp8Kernels.ROWS) {
                int rows = Math.min(Fp8Kernels.ROWS, to - j);
                for (int i = 0; i < m; i++) {
                    kernels.rowsTimesX(w, j, rows, xa, xq, i * k, sx, i * segs, out);
                    for (int r = 0; r < rows; r++) {
                        y[i * n + j + r] = out[r] + (bias == null ? 0f : bias[j + r]);
                    }
                }
            }
        }
    }

    /** fp8 with many rows of x: each weight row decoded once, its segments dotted with every row. */
    private static final class Fp8Rows extends Fp8Task {
        @Override
        public void run(int from, int to) {
            int k = w.cols();
            int n = w.rows();
            int segs = w.segments();
            int[] start = w.segmentStart();
            float[] ws = w.weightScales();
            float[] row = Scratch.current().floats(ROW, k);
            for (int j = from; j < to; j++) {
                kernels.decodeRow(w, j, row);
                float b = bias == null ? 0f : bias[j];
                for (int i = 0; i < m; i++) {
                    float acc = 0f;
                    for (int s = 0; s < segs; s++) {
                        float partial = kernels.dot(xq, i * k + start[s], row, start[s], start[s + 1] - start[s]);
                        acc += partial * (sx[i * segs + s] * ws[j * segs + s]);
                    }
                    y[i * n + j] = acc + b;
                }
            }
        }
    }
}

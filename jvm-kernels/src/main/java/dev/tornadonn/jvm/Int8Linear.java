package dev.tornadonn.jvm;

/**
 * {@code y = x·wᵀ + bias} for an {@link Int8Layout}: x quantised once, row by row, to int8 codes;
 * then each block of {@value Int8Kernels#ROWS} weight rows straight from the codes for every row
 * of x, a few rows of x at a time (the GEMV), or {@value #X_BLOCK} at a time so that those stay in
 * cache while the weights stream past (the GEMM). Each output is its exact integer sum, corrected
 * for the zero point, times both scales in double, rounded once to f32, plus the bias.
 * Its parallel part is a task object the calling thread reuses (a capturing lambda is a new
 * object per call), its fields cleared after each call; its buffers come from the running
 * thread's {@link Scratch}.
 */
final class Int8Linear {
    private static final Scratch.Key CODES = Scratch.key("x quantised to int8");
    private static final Scratch.Key SCALES = Scratch.key("x's int8 scales");
    private static final Scratch.Key ZEROS = Scratch.key("x's int8 zero points");
    private static final Scratch.Key ACC = Scratch.key("a block of int8 rows' integer sums");

    /** Rows of x whose int8 codes (2 bytes each, as the kernels read them) stay in cache while every weight row passes. */
    private static final int X_BLOCK = 32;

    private static final ThreadLocal<Int8Rows> TASKS = ThreadLocal.withInitial(Int8Rows::new);

    private Int8Linear() {}

    static void run(Int8Kernels kernels, float[] x, int m, Int8Layout w, float[] bias, float[] y) {
        int k = w.cols();
        Scratch scratch = Scratch.current();
        short[] xq = scratch.shorts(CODES, Math.multiplyExact(m, k));
        float[] sx = scratch.floats(SCALES, m);
        long[] zx = scratch.longs(ZEROS, m);
        Int8Activations.quantise(x, m, k, w.input(), xq, sx, zx);
        Int8Rows task = TASKS.get();
        task.start(kernels, w, xq, sx, zx, m, m <= VectorKernels.GEMV_MAX_M ? m : X_BLOCK, bias, y);
        try {
            Parallel.forRows(w.rows(), Int8Kernels.ROWS, task);
        } finally {
            task.clear();
        }
    }

    /** {@code Σ (xq − z)·w = acc − z·Σ w}, exactly while it fits a long (any realistic K), as a double. */
    static double zeroPointCorrected(long acc, long zeroPoint, long rowSum) {
        if (zeroPoint == 0) {
            return acc;
        }
        try {
            return Math.subtractExact(acc, Math.multiplyExact(zeroPoint, rowSum));
        } catch (ArithmeticException beyondLong) {
            return acc - (double) zeroPoint * rowSum;
        }
    }

    /** A range of weight rows, {@value Int8Kernels#ROWS} at a time, for every row of x. */
    private static final class Int8Rows implements Parallel.RowRange {
        Int8Kernels kernels;
        Int8Layout w;
        short[] xq;
        float[] sx;
        long[] zx;
        int m;
        int xBlock;
        float[] bias;
        float[] y;

        void start(Int8Kernels kernels, Int8Layout w, short[] xq, float[] sx, long[] zx, int m, int xBlock, float[] bias,
                   float[] y) {
            this.kernels = kernels;
            this.w = w;
            this.xq = xq;
            this.sx = sx;
            this.zx = zx;
            this.m = m;
            this.xBlock = xBlock;
            this.bias = bias;
            this.y = y;
        }

        void clear() {
            start(null, null, null, null, null, 0, 0, null, null);
        }

        @Override
        public void run(int from, int to) {
            int k = w.cols();
            int n = w.rows();
            long[] acc = Scratch.current().longs(ACC, Int8Kernels.ROWS);
            long[] rowSums = w.rowSums();
            float[] ws = w.weightScales();
            for (int i0 = 0; i0 < m; i0 += xBlock) {
                for (int j = from; j < to; j += Int8Kernels.ROWS) {
                    int rows = Math.min(Int8Kernels.ROWS, to - j);
                    for (int i = i0; i < Math.min(m, i0 + xBlock); i++) {
                        kernels.rowsTimesX(w, j, rows, xq, i * k, acc);
                        for (int r = 0; r < rows; r++) {
                            double v = zeroPointCorrected(acc[r], zx[i], rowSums[j + r]) * ((double) sx[i] * ws[j + r]);
                            y[i * n + j + r] = (float) (bias == null ? v : v + bias[j + r]);
                        }
                    }
                }
            }
        }
    }
}

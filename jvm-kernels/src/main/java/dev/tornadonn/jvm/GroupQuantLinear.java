package dev.tornadonn.jvm;

/**
 * {@code y = x·wᵀ + bias} for a {@link GroupQuantLayout} (GPTQ): x gathered into the layout's
 * column order once, then the fused GEMV for one row of x, or each weight row decoded once for
 * more.
 * Its parallel parts are task objects the calling thread reuses (a capturing lambda is a new
 * object per call), their fields cleared after each call so that no weight stays reachable
 * through them; their buffers come from the running thread's {@link Scratch}.
 */
final class GroupQuantLinear {
    private static final Scratch.Key GATHERED_X = Scratch.key("x in a group-quantised layout's column order");
    private static final Scratch.Key GROUP_SUMS = Scratch.key("x's sum per group");
    private static final Scratch.Key ROW = Scratch.key("a GPTQ weight row decoded");
    private static final Scratch.Key ROWS_OUT = Scratch.key("a block of GPTQ rows' results");

    /**
     * Weights below which the GEMV runs on the calling thread: waking a worker costs more than
     * it saves (an 8 × 8192 GEMV took 9 µs on two threads, 7 µs on one).
     */
    static final long SMALL_GEMV = 1 << 18;

    private GroupQuantLinear() {}

    /**
     * x is gathered into the layout's column order once. A single row of x takes the one-pass
     * fused dot; many rows the packed GEMM, each K block of the weight decoded once as it is packed;
     * the rows between decode each weight row once into a buffer and reuse it for all of them.
     */
    static void run(MatmulKernels kernels, GroupQuantKernels groupQuant, float[] x, int m, GroupQuantLayout w, float[] bias,
                    float[] y) {
        int k = w.cols();
        int kp = w.paddedCols();
        int n = w.rows();
        int[] columnOf = w.columnOfPosition();
        Scratch scratch = Scratch.current();
        float[] xp = scratch.floats(GATHERED_X, Math.multiplyExact(m, kp));
        for (int i = 0; i < m; i++) {
            if (w.inColumnOrder()) {
                System.arraycopy(x, i * k, xp, i * kp, k);
                java.util.Arrays.fill(xp, i * kp + k, (i + 1) * kp, 0f);
                continue;
            }
            for (int pos = 0; pos < kp; pos++) {
                int col = columnOf[pos];
                xp[i * kp + pos] = col >= 0 ? x[i * k + col] : 0f;
            }
        }
        if (m == 1) {
            // GEMV: one pass per block of rows, codes straight into the products.
            float[] xsum = scratch.floats(GROUP_SUMS, w.groups());
            groupQuant.groupSums(w, xp, xsum);
            GroupQuantGemv task = GROUP_QUANT_GEMV.get();
            task.start(groupQuant, w, xp, groupQuant.arrangeInput(w, xp), xsum, bias, y);
            try {
                if ((long) n * kp < SMALL_GEMV) {
                    task.run(0, n);
                } else {
                    Parallel.forRows(n, GroupQuantKernels.ROWS, task);
                }
            } finally {
                task.clear();
            }
            return;
        }
        if (kernels.packs(m)) {
            Chunks chunks = CHUNKS.get();
            chunks.start(groupQuant, w);
            try {
                kernels.packedGemm(xp, m, kp, chunks, n, bias, y);
            } finally {
                chunks.start(null, null);
            }
            return;
        }
        GroupQuantRows task = GROUP_QUANT_ROWS.get();
        task.start(groupQuant, w, xp, m, bias, y);
        try {
            Parallel.forRows(n, task);
        } finally {
            task.clear();
        }
    }

    private static final ThreadLocal<GroupQuantGemv> GROUP_QUANT_GEMV = ThreadLocal.withInitial(GroupQuantGemv::new);
    private static final ThreadLocal<GroupQuantRows> GROUP_QUANT_ROWS = ThreadLocal.withInitial(GroupQuantRows::new);
    private static final ThreadLocal<Chunks> CHUNKS = ThreadLocal.withInitial(Chunks::new);

    /**
     * A layout's rows as the packed GEMM reads them, dequantised; its K blocks are whole chunks,
     * since both {@link VectorGemm#KC} and the padded row are multiples of
     * {@link GroupQuantLayout#CHUNK}. The calling thread reuses it from call to call.
     */
    private static final class Chunks implements DecodedRows {
        private GroupQuantKernels kernels;
        private GroupQuantLayout w;

        void start(GroupQuantKernels kernels, GroupQuantLayout w) {
            this.kernels = kernels;
            this.w = w;
        }

        @Override
        public void decode(int row, int from, int len, float[] out, int at) {
            kernels.decodeChunks(w, row, from / GroupQuantLayout.CHUNK, len / GroupQuantLayout.CHUNK, out, at);
        }
    }

    /** A GPTQ GEMV's rows, {@value GroupQuantKernels#ROWS} at a time. */
    private static final class GroupQuantGemv implements Parallel.RowRange {
        private GroupQuantKernels kernels;
        private GroupQuantLayout w;
        private float[] xp;
        private float[] xa;
        private float[] xsum;
        private float[] bias;
        private float[] y;

        void start(GroupQuantKernels kernels, GroupQuantLayout w, float[] xp, float[] xa, float[] xsum, float[] bias,
                   float[] y) {
            this.kernels = kernels;
            this.w = w;
            this.xp = xp;
            this.xa = xa;
            this.xsum = xsum;
            this.bias = bias;
            this.y = y;
        }

        void clear() {
            start(null, null, null, null, null, null, null);
        }

        @Override
        public void run(int from, int to) {
            float[] out = Scratch.current().floats(ROWS_OUT, GroupQuantKernels.ROWS);
            for (int j = from; j < to; j += GroupQuantKernels.ROWS) {
                int rows = Math.min(GroupQuantKernels.ROWS, to - j);
                kernels.rowsTimesX(w, j, rows, xp, xa, xsum, out);
                for (int r = 0; r < rows; r++) {
                    y[j + r] = out[r] + (bias == null ? 0f : bias[j + r]);
                }
            }
        }
    }

    /** GPTQ with several rows of x: each weight row decoded once, dotted with all of them. */
    private static final class GroupQuantRows implements Parallel.RowRange {
        private GroupQuantKernels kernels;
        private GroupQuantLayout w;
        private float[] xp;
        private int m;
        private float[] bias;
        private float[] y;

        void start(GroupQuantKernels kernels, GroupQuantLayout w, float[] xp, int m, float[] bias, float[] y) {
            this.kernels = kernels;
            this.w = w;
            this.xp = xp;
            this.m = m;
            this.bias = bias;
            this.y = y;
        }

        void clear() {
            start(null, null, null, 0, null, null);
        }

        @Override
        public void run(int from, int to) {
            int kp = w.paddedCols();
            int n = w.rows();
            float[] row = Scratch.current().floats(ROW, kp);
            for (int j = from; j < to; j++) {
                kernels.decodeRow(w, j, row);
                float b = bias == null ? 0f : bias[j];
                for (int i = 0; i < m; i++) {
                    y[i * n + j] = kernels.dot(xp, i * kp, row, kp) + b;
                }
            }
        }
    }
}

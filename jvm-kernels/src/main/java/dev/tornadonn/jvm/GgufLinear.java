package dev.tornadonn.jvm;

import dev.tornadonn.core.io.GgmlType;

/**
 * {@code y = x·wᵀ + bias} for a {@link GgufLayout}: the blocks decoded as the rows are walked,
 * dotted with x by the fp8 kernels' f32 dot.
 * Its parallel parts are task objects the calling thread reuses (a capturing lambda is a new
 * object per call), their fields cleared after each call so that no weight stays reachable
 * through them; their buffers come from the running thread's {@link Scratch}.
 */
final class GgufLinear {
    private static final Scratch.Key RAW_ROW = Scratch.key("a GGUF row's bytes");
    private static final Scratch.Key GGUF_CHUNK_VALUES = Scratch.key("a GGUF super-block decoded");
    private static final Scratch.Key SUMS = Scratch.key("a GGUF row's sums over the rows of x");
    private static final Scratch.Key ROW = Scratch.key("a GGUF weight row decoded");

    private GgufLinear() {}

    /** Elements decoded at a time by the GEMV: one K-quant super-block, or eight 32-element blocks. */
    private static final int GGUF_CHUNK = 256;

    /**
     * A few rows of x: each weight row is decoded a super-block (or 256 elements of 32-blocks) at a
     * time inside the row loop, into a buffer that stays in L1, and dotted with every row of x, the
     * f32 partial sums added per chunk. More rows: each weight row is decoded once, whole, and
     * dotted with all of them; many rows take the packed GEMM, which decodes each K block of a row
     * once for all of them.
     */
    static void run(MatmulKernels kernels, Fp8Kernels fp8, float[] x, int m, GgufLayout w, float[] bias, float[] y) {
        if (kernels.packs(m)) {
            GgufRows rows = GGUF_ROWS.get();
            rows.start(kernels, w);
            try {
                kernels.packedGemm(x, m, w.cols(), rows, w.rows(), bias, y);
            } finally {
                rows.start(null, null);
            }
            return;
        }
        GgufTask task = GGUF.get();
        task.start(kernels, fp8, w, x, m, bias, y);
        try {
            Parallel.forRows(w.rows(), task);
        } finally {
            task.clear();
        }
    }

    private static final ThreadLocal<GgufTask> GGUF = ThreadLocal.withInitial(GgufTask::new);
    private static final ThreadLocal<GgufRows> GGUF_ROWS = ThreadLocal.withInitial(GgufRows::new);
    private static final Scratch.Key RAW_BLOCKS = Scratch.key("a run of GGUF blocks' bytes, for the GEMM");

    /**
     * A GGUF weight's rows as the packed GEMM reads them: the blocks of a K block copied out and
     * decoded exactly ({@link VectorGemm#KC} is a multiple of every block size, and a GGUF row of
     * whole blocks). The calling thread reuses it from call to call.
     */
    private static final class GgufRows implements DecodedRows {
        private MatmulKernels kernels;
        private GgufLayout w;

        void start(MatmulKernels kernels, GgufLayout w) {
            this.kernels = kernels;
            this.w = w;
        }

        @Override
        public void decode(int row, int from, int len, float[] out, int at) {
            byte[] raw = Scratch.current().bytes(RAW_BLOCKS, (int) w.type().rowBytes(len));
            w.copyBlocks(row, from, len, raw);
            kernels.decodeGguf(w.type(), raw, 0, len, out, at);
        }
    }

    /** A GGUF weight's rows: chunk by chunk for a few rows of x, whole rows for more. */
    private static final class GgufTask implements Parallel.RowRange {
        private MatmulKernels kernels;
        private Fp8Kernels dots;
        private GgufLayout w;
        private float[] x;
        private int m;
        private float[] bias;
        private float[] y;

        void start(MatmulKernels kernels, Fp8Kernels dots, GgufLayout w, float[] x, int m, float[] bias, float[] y) {
            this.kernels = kernels;
            this.dots = dots;
            this.w = w;
            this.x = x;
            this.m = m;
            this.bias = bias;
            this.y = y;
        }

        void clear() {
            start(null, null, null, null, 0, null, null);
        }

        @Override
        public void run(int from, int to) {
            if (m <= VectorKernels.GEMV_MAX_M) {
                chunked(from, to);
            } else {
                whole(from, to);
            }
        }

        private void chunked(int from, int to) {
            int k = w.cols();
            int n = w.rows();
            GgmlType type = w.type();
            int chunk = Math.min(GGUF_CHUNK, k);
            int chunkBytes = (int) type.rowBytes(chunk);
            Scratch scratch = Scratch.current();
            byte[] raw = scratch.bytes(RAW_ROW, w.rowBytes());
            float[] buf = scratch.floats(GGUF_CHUNK_VALUES, chunk);
            float[] acc = scratch.floats(SUMS, m);
            for (int j = from; j < to; j++) {
                w.copyBlocks(j, 0, k, raw);
                java.util.Arrays.fill(acc, 0, m, 0f);
                for (int c = 0, at = 0; c < k; c += chunk, at += chunkBytes) {
                    int len = Math.min(chunk, k - c);
                    kernels.decodeGguf(type, raw, at, len, buf, 0);
                    for (int i = 0; i < m; i++) {
                        acc[i] += dots.dot(x, i * k + c, buf, 0, len);
                    }
                }
                float b = bias == null ? 0f : bias[j];
                for (int i = 0; i < m; i++) {
                    y[i * n + j] = acc[i] + b;
                }
            }
        }

        private void whole(int from, int to) {
            int k = w.cols();
            int n = w.rows();
            Scratch scratch = Scratch.current();
            byte[] raw = scratch.bytes(RAW_ROW, w.rowBytes());
            float[] row = scratch.floats(ROW, k);
            for (int j = from; j < to; j++) {
                w.copyBlocks(j, 0, k, raw);
                kernels.decodeGguf(w.type(), raw, 0, k, row, 0);
                float b = bias == null ? 0f : bias[j];
                for (int i = 0; i < m; i++) {
                    y[i * n + j] = dots.dot(x, i * k, row, 0, k) + b;
                }
            }
        }
    }
}

package dev.tornadonn.jvm;

import dev.tornadonn.core.ConfigException;
import static dev.tornadonn.jvm.VectorKernels.F;
import static dev.tornadonn.jvm.VectorKernels.L;
import static jdk.incubator.vector.VectorOperators.ADD;

import dev.tornadonn.core.DType;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The GEMM half of the vector kernels, BLIS-style: x is packed once into slivers of {@code mr}
 * rows ({@code [k][mr]}); the weight's rows are cut into slivers of {@code nr} rows, and each task
 * owns a run of slivers that fits L2 once packed ({@code [kc][nr]}, decoded from bf16/f16 on the
 * way). For every x sliver, which then stays in L1, the task sweeps its packed weight slivers
 * with an {@code mr × nr} outer-product micro-kernel that accumulates straight into y.
 *
 * <p>Up to {@value #FEW_ROWS} rows of x the weight is not packed at all: see {@link #gemmFewRows}.
 *
 * <p>Two micro-kernels: 8 × 3 vectors (24 accumulators) where the CPU has 32 vector registers
 * (AVX-512), 6 × 2 vectors (12 accumulators) where it has 16 (AVX2). Each keeps its accumulators
 * in registers because they never leave the method.
 */
final class VectorGemm {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** bf16 weights, {@code lanes} at a time, widened to int lanes. */
    private static final VectorSpecies<Short> HALVES = VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    private static final VectorSpecies<Integer> INTS = VectorSpecies.of(int.class, F.vectorShape());
    /** 512-bit vectors come with 32 registers: room for the 8 × 3 kernel. */
    static final boolean WIDE = L >= 16;
    /**
     * Columns of k per packed block: an 8-row x sliver (16 KiB) stays in L1, the task's weight
     * slivers in L2; y is read and written once per block, so not much smaller.
     */
    static final int KC = 512;
    /** Packed weight per task, in floats: about 1 MiB, half of a core's L2. */
    private static final int B_BLOCK_FLOATS = 1 << 18;

    /** Per-thread buffers, kept between calls: packed x (caller), packed weight and edge tile (tasks). */
    private static final Scratch.Key A_PACK = Scratch.key("x packed for the GEMM");
    private static final Scratch.Key B_PACK = Scratch.key("weight slivers packed for the GEMM");
    private static final Scratch.Key SCRATCH = Scratch.key("the GEMM's decoded rows and edge tiles");

    private VectorGemm() {}

    static void gemm(float[] x, int m, int k, MemorySegment w, DType type, int n, float[] bias, float[] y) {
        if (m <= FEW_ROWS && k >= L && WIDE) {
            gemmFewRows(x, m, k, w, type, n, bias, y);
        } else {
            gemm(x, m, k, w, type, n, bias, y, WIDE);
        }
    }

    /** The packed path; {@code wide} picks the micro-kernel, so that tests run both on one CPU. */
    static void gemm(float[] x, int m, int k, MemorySegment w, DType type, int n, float[] bias, float[] y,
                     boolean wide) {
        DenseRows dense = DENSE_ROWS.get();
        dense.start(w, type, k);
        try {
            gemm(x, m, k, dense, n, bias, y, wide);
        } finally {
            dense.start(null, null, 0);
        }
    }

    /** The packed path over any weight format, decoded a K block at a time as it is packed. */
    static void gemm(float[] x, int m, int k, DecodedRows w, int n, float[] bias, float[] y) {
        gemm(x, m, k, w, n, bias, y, WIDE);
    }

    static void gemm(float[] x, int m, int k, DecodedRows w, int n, float[] bias, float[] y, boolean wide) {
        int mr = wide ? 8 : 6;
        int nr = wide ? 3 * L : 2 * L;
        if (k == 0) {
            for (int i = 0; i < m; i++) {
                initRow(y, i * n, 0, n, bias);
            }
            return;
        }
        int mSlivers = (m + mr - 1) / mr;
        float[] aPack = buffer(A_PACK, mSlivers * k * mr);
        int nSlivers = (n + nr - 1) / nr;
        // Tasks: few enough that each one's packed slivers fit the L2 budget, at least four per
        // thread so that a core slowed by other work hands over its share, a multiple of the
        // thread count, and all of one size, give or take a sliver.
        int threads = Parallel.THREADS;
        int tasks = (int) Math.max(((long) nSlivers * KC * nr + B_BLOCK_FLOATS - 1) / B_BLOCK_FLOATS, 4 * threads);
        tasks = Math.min(nSlivers, (tasks + threads - 1) / threads * threads);
        Packed task = PACKED.get();
        task.start(x, m, k, w, n, bias, y, wide, aPack, tasks);
        try {
            task.packingX = true;
            Parallel.forEach(mSlivers, task);
            task.packingX = false;
            Parallel.forEach(tasks, task);
        } finally {
            task.start(null, 0, 0, null, 0, null, null, false, null, 0);
        }
    }

    private static final ThreadLocal<Packed> PACKED = ThreadLocal.withInitial(Packed::new);
    private static final ThreadLocal<DenseRows> DENSE_ROWS = ThreadLocal.withInitial(DenseRows::new);

    /** An f32, bf16 or f16 weight as {@link DecodedRows}; the calling thread reuses it from call to call. */
    private static final class DenseRows implements DecodedRows {
        private MemorySegment w;
        private DType type;
        private int k;

        void start(MemorySegment w, DType type, int k) {
            this.w = w;
            this.type = type;
            this.k = k;
        }

        @Override
        public void decode(int row, int from, int len, float[] out, int at) {
            decodeRow(w, type, k, row, from, len, out, at);
        }
    }

    /**
     * The packed GEMM's two parallel steps, x's slivers packed, then the weight's slivers swept;
     * the calling thread reuses it from call to call (a capturing lambda is a new object each time).
     */
    private static final class Packed implements java.util.function.IntConsumer {
        boolean packingX;
        private float[] x;
        private int m;
        private int k;
        private DecodedRows w;
        private int n;
        private float[] bias;
        private float[] y;
        private boolean wide;
        private float[] aPack;
        private int tasks;

        void start(float[] x, int m, int k, DecodedRows w, int n, float[] bias, float[] y, boolean wide,
                   float[] aPack, int tasks) {
            this.x = x;
            this.m = m;
            this.k = k;
            this.w = w;
            this.n = n;
            this.bias = bias;
            this.y = y;
            this.wide = wide;
            this.aPack = aPack;
            this.tasks = tasks;
        }

        @Override
        public void accept(int t) {
            int mr = wide ? 8 : 6;
            if (packingX) {
                packA(x, m, k, t, mr, aPack);
            } else {
                sweep(t, tasks, m, k, w, n, bias, y, wide, aPack);
            }
        }
    }

    /** Task t of {@code tasks}: its run of weight slivers, packed a K block at a time, times every sliver of x. */
    private static void sweep(int t, int tasks, int m, int k, DecodedRows w, int n, float[] bias, float[] y,
                              boolean wide, float[] aPack) {
        int mr = wide ? 8 : 6;
        int nr = wide ? 3 * L : 2 * L;
        int mSlivers = (m + mr - 1) / mr;
        int nSlivers = (n + nr - 1) / nr;
        int maxSlivers = (nSlivers + tasks - 1) / tasks;
        int s0 = (int) ((long) nSlivers * t / tasks);
        int s1 = (int) ((long) nSlivers * (t + 1) / tasks);
        int col0 = s0 * nr;
        int col1 = Math.min(n, s1 * nr);
        float[] bPack = buffer(B_PACK, maxSlivers * KC * nr);
        float[] scratch = buffer(SCRATCH, Math.max(L * KC, mr * nr));
        if (bias != null) {
            for (int i = 0; i < m; i++) {
                initRow(y, i * n, col0, col1, bias);
            }
        }
        for (int pc = 0; pc < k; pc += KC) {
            int kc = Math.min(KC, k - pc);
            boolean accumulate = bias != null || pc > 0;
            packB(w, n, s0, s1, nr, pc, kc, scratch, bPack);
            for (int ms = 0; ms < mSlivers; ms++) {
                int row0 = ms * mr;
                int rows = Math.min(mr, m - row0);
                int aOff = (ms * k + pc) * mr;
                for (int s = s0; s < s1; s++) {
                    int c0 = s * nr;
                    int cols = Math.min(nr, n - c0);
                    int bOff = (s - s0) * kc * nr;
                    if (rows == mr && cols == nr) {
                        if (wide) {
                            kernel8x3(aPack, aOff, bPack, bOff, kc, y, row0 * n + c0, n, accumulate);
                        } else {
                            kernel6x2(aPack, aOff, bPack, bOff, kc, y, row0 * n + c0, n, accumulate);
                        }
                    } else {
                        // An edge tile: computed whole into scratch, then its valid part moved.
                        if (wide) {
                            kernel8x3(aPack, aOff, bPack, bOff, kc, scratch, 0, nr, false);
                        } else {
                            kernel6x2(aPack, aOff, bPack, bOff, kc, scratch, 0, nr, false);
                        }
                        flush(scratch, nr, y, n, row0, rows, c0, cols, accumulate);
                    }
                }
            }
        }
    }

    /**
     * Few rows of x (the weight streams from memory once and is the cost): no packing of the
     * weight. Each weight row is dotted with the rows of x along k, {@value #DOT_NR} weight rows ×
     * {@value #DOT_MR} x rows at a time, so every weight vector loaded serves eight rows of x and
     * the x rows, interleaved once into {@code [k/L][8][L]} blocks, are read from L1/L2.
     */
    static void gemmFewRows(float[] x, int m, int k, MemorySegment w, DType type, int n, float[] bias, float[] y) {
        int kv = k - k % L;
        int groups = (m + DOT_MR - 1) / DOT_MR;
        float[] xPack = buffer(A_PACK, groups * DOT_MR * kv);
        for (int g = 0; g < groups; g++) {
            for (int r = 0; r < DOT_MR; r++) {
                int i = g * DOT_MR + r;
                for (int p = 0; p < kv; p += L) {
                    int at = g * DOT_MR * kv + p * DOT_MR + r * L;
                    if (i < m) {
                        System.arraycopy(x, i * k + p, xPack, at, L);
                    } else {
                        Arrays.fill(xPack, at, at + L, 0f);
                    }
                }
            }
        }
        FewRows task = FEW_ROWS_TASK.get();
        task.start(x, m, k, w, type, n, bias, y, xPack);
        try {
            Parallel.forRows((n + DOT_NR - 1) / DOT_NR, task);
        } finally {
            task.start(null, 0, 0, null, null, 0, null, null, null);
        }
    }

    private static final ThreadLocal<FewRows> FEW_ROWS_TASK = ThreadLocal.withInitial(FewRows::new);

    /** A range of groups of {@value #DOT_NR} weight rows; the calling thread reuses it from call to call. */
    private static final class FewRows implements Parallel.RowRange {
        private float[] x;
        private int m;
        private int k;
        private MemorySegment w;
        private DType type;
        private int n;
        private float[] bias;
        private float[] y;
        private float[] xPack;

        void start(float[] x, int m, int k, MemorySegment w, DType type, int n, float[] bias, float[] y, float[] xPack) {
            this.x = x;
            this.m = m;
            this.k = k;
            this.w = w;
            this.type = type;
            this.n = n;
            this.bias = bias;
            this.y = y;
            this.xPack = xPack;
        }

        @Override
        public void run(int from, int to) {
            int kv = k - k % L;
            int groups = (m + DOT_MR - 1) / DOT_MR;
            float[] rows = type == DType.F16 ? buffer(SCRATCH, DOT_NR * kv) : null;
            for (int jg = from; jg < to; jg++) {
                int j0 = jg * DOT_NR;
                if (type == DType.F16) {
                    for (int r = 0; r < DOT_NR; r++) {
                        decodeRow(w, type, k, Math.min(j0 + r, n - 1), 0, kv, rows, r * kv);
                    }
                }
                for (int g = 0; g < groups; g++) {
                    int xOff = g * DOT_MR * kv;
                    switch (type) {
                        case F32 -> dotF32(xPack, xOff, kv, w, k, n, j0, x, m, g * DOT_MR, bias, y);
                        case BF16 -> dotBF16(xPack, xOff, kv, w, k, n, j0, x, m, g * DOT_MR, bias, y);
                        default -> dotRows(xPack, xOff, kv, rows, w, type, k, n, j0, x, m, g * DOT_MR, bias, y);
                    }
                }
            }
        }
    }

    /**
     * Up to this many rows of x, the weight is not packed. Measured at n = k = 4096: the dot
     * kernels win clearly at 32 rows (f32 and bf16), the two are even at 64, packing wins from 96.
     */
    static final int FEW_ROWS = 48;
    /**
     * From this many rows of x a quantised weight takes the packed GEMM: its decode, shared by 8
     * rows of x at a time, then costs less than decoding a row and dotting it with each row of x.
     */
    static final int PACKED_MIN_M = FEW_ROWS + 1;
    static final int DOT_MR = 8;
    static final int DOT_NR = 3;

    /** Byte offset of weight row {@code min(j, n-1)}: rows past n repeat the last, and are not stored. */
    private static long rowByte(int j, int n, int k, DType type) {
        return (long) Math.min(j, n - 1) * k * type.byteSize();
    }

    /** The f32 dot kernel: 3 weight rows straight from the segment × 8 x rows, 24 accumulators. */
    private static void dotF32(float[] xp, int xOff, int kv, MemorySegment w, int k, int n, int j0,
                               float[] x, int m, int i0, float[] bias, float[] y) {
        long w0 = rowByte(j0, n, k, DType.F32);
        long w1 = rowByte(j0 + 1, n, k, DType.F32);
        long w2 = rowByte(j0 + 2, n, k, DType.F32);
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F), c02 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F), c11 = FloatVector.zero(F), c12 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F), c21 = FloatVector.zero(F), c22 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F), c31 = FloatVector.zero(F), c32 = FloatVector.zero(F);
        FloatVector c40 = FloatVector.zero(F), c41 = FloatVector.zero(F), c42 = FloatVector.zero(F);
        FloatVector c50 = FloatVector.zero(F), c51 = FloatVector.zero(F), c52 = FloatVector.zero(F);
        FloatVector c60 = FloatVector.zero(F), c61 = FloatVector.zero(F), c62 = FloatVector.zero(F);
        FloatVector c70 = FloatVector.zero(F), c71 = FloatVector.zero(F), c72 = FloatVector.zero(F);
        for (int p = 0; p < kv; p += L) {
            FloatVector b0 = FloatVector.fromMemorySegment(F, w, w0 + 4L * p, LE);
            FloatVector b1 = FloatVector.fromMemorySegment(F, w, w1 + 4L * p, LE);
            FloatVector b2 = FloatVector.fromMemorySegment(F, w, w2 + 4L * p, LE);
            int xo = xOff + p * DOT_MR;
            FloatVector xv = FloatVector.fromArray(F, xp, xo);
            c00 = xv.fma(b0, c00);
            c01 = xv.fma(b1, c01);
            c02 = xv.fma(b2, c02);
            xv = FloatVector.fromArray(F, xp, xo + L);
            c10 = xv.fma(b0, c10);
            c11 = xv.fma(b1, c11);
            c12 = xv.fma(b2, c12);
            xv = FloatVector.fromArray(F, xp, xo + 2 * L);
            c20 = xv.fma(b0, c20);
            c21 = xv.fma(b1, c21);
            c22 = xv.fma(b2, c22);
            xv = FloatVector.fromArray(F, xp, xo + 3 * L);
            c30 = xv.fma(b0, c30);
            c31 = xv.fma(b1, c31);
            c32 = xv.fma(b2, c32);
            xv = FloatVector.fromArray(F, xp, xo + 4 * L);
            c40 = xv.fma(b0, c40);
            c41 = xv.fma(b1, c41);
            c42 = xv.fma(b2, c42);
            xv = FloatVector.fromArray(F, xp, xo + 5 * L);
            c50 = xv.fma(b0, c50);
            c51 = xv.fma(b1, c51);
            c52 = xv.fma(b2, c52);
            xv = FloatVector.fromArray(F, xp, xo + 6 * L);
            c60 = xv.fma(b0, c60);
            c61 = xv.fma(b1, c61);
            c62 = xv.fma(b2, c62);
            xv = FloatVector.fromArray(F, xp, xo + 7 * L);
            c70 = xv.fma(b0, c70);
            c71 = xv.fma(b1, c71);
            c72 = xv.fma(b2, c72);
        }
        // Reduced here, so that no vector leaves the method.
        put(c00.reduceLanes(ADD), x, m, i0, k, kv, w, DType.F32, n, j0, bias, y);
        put(c01.reduceLanes(ADD), x, m, i0, k, kv, w, DType.F32, n, j0 + 1, bias, y);
        put(c02.reduceLanes(ADD), x, m, i0, k, kv, w, DType.F32, n, j0 + 2, bias, y);
        put(c10.reduceLanes(ADD), x, m, i0 + 1, k, kv, w, DType.F32, n, j0, bias, y);
        put(c11.reduceLanes(ADD), x, m, i0 + 1, k, kv, w, DType.F32, n, j0 + 1, bias, y);
        put(c12.reduceLanes(ADD), x, m, i0 + 1, k, kv, w, DType.F32, n, j0 + 2, bias, y);
        put(c20.reduceLanes(ADD), x, m, i0 + 2, k, kv, w, DType.F32, n, j0, bias, y);
        put(c21.reduceLanes(ADD), x, m, i0 + 2, k, kv, w, DType.F32, n, j0 + 1, bias, y);
        put(c22.reduceLanes(ADD), x, m, i0 + 2, k, kv, w, DType.F32, n, j0 + 2, bias, y);
        put(c30.reduceLanes(ADD), x, m, i0 + 3, k, kv, w, DType.F32, n, j0, bias, y);
        put(c31.reduceLanes(ADD), x, m, i0 + 3, k, kv, w, DType.F32, n, j0 + 1, bias, y);
        put(c32.reduceLanes(ADD), x, m, i0 + 3, k, kv, w, DType.F32, n, j0 + 2, bias, y);
        put(c40.reduceLanes(ADD), x, m, i0 + 4, k, kv, w, DType.F32, n, j0, bias, y);
        put(c41.reduceLanes(ADD), x, m, i0 + 4, k, kv, w, DType.F32, n, j0 + 1, bias, y);
        put(c42.reduceLanes(ADD), x, m, i0 + 4, k, kv, w, DType.F32, n, j0 + 2, bias, y);
        put(c50.reduceLanes(ADD), x, m, i0 + 5, k, kv, w, DType.F32, n, j0, bias, y);
        put(c51.reduceLanes(ADD), x, m, i0 + 5, k, kv, w, DType.F32, n, j0 + 1, bias, y);
        put(c52.reduceLanes(ADD), x, m, i0 + 5, k, kv, w, DType.F32, n, j0 + 2, bias, y);
        put(c60.reduceLanes(ADD), x, m, i0 + 6, k, kv, w, DType.F32, n, j0, bias, y);
        put(c61.reduceLanes(ADD), x, m, i0 + 6, k, kv, w, DType.F32, n, j0 + 1, bias, y);
        put(c62.reduceLanes(ADD), x, m, i0 + 6, k, kv, w, DType.F32, n, j0 + 2, bias, y);
        put(c70.reduceLanes(ADD), x, m, i0 + 7, k, kv, w, DType.F32, n, j0, bias, y);
        put(c71.reduceLanes(ADD), x, m, i0 + 7, k, kv, w, DType.F32, n, j0 + 1, bias, y);
        put(c72.reduceLanes(ADD), x, m, i0 + 7, k, kv, w, DType.F32, n, j0 + 2, bias, y);
    }

    /** The bf16 dot kernel: as {@link #dotF32}, decoding in registers (a widening shift per vector). */
    private static void dotBF16(float[] xp, int xOff, int kv, MemorySegment w, int k, int n, int j0,
                               float[] x, int m, int i0, float[] bias, float[] y) {
        long w0 = rowByte(j0, n, k, DType.BF16);
        long w1 = rowByte(j0 + 1, n, k, DType.BF16);
        long w2 = rowByte(j0 + 2, n, k, DType.BF16);
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F), c02 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F), c11 = FloatVector.zero(F), c12 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F), c21 = FloatVector.zero(F), c22 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F), c31 = FloatVector.zero(F), c32 = FloatVector.zero(F);
        FloatVector c40 = FloatVector.zero(F), c41 = FloatVector.zero(F), c42 = FloatVector.zero(F);
        FloatVector c50 = FloatVector.zero(F), c51 = FloatVector.zero(F), c52 = FloatVector.zero(F);
        FloatVector c60 = FloatVector.zero(F), c61 = FloatVector.zero(F), c62 = FloatVector.zero(F);
        FloatVector c70 = FloatVector.zero(F), c71 = FloatVector.zero(F), c72 = FloatVector.zero(F);
        for (int p = 0; p < kv; p += L) {
            // Decoded here, not by a helper: a vector returned from a call C2 does not inline is boxed.
            FloatVector b0 = ((IntVector) ShortVector.fromMemorySegment(HALVES, w, w0 + 2L * p, LE)
                    .convertShape(VectorOperators.S2I, INTS, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector b1 = ((IntVector) ShortVector.fromMemorySegment(HALVES, w, w1 + 2L * p, LE)
                    .convertShape(VectorOperators.S2I, INTS, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector b2 = ((IntVector) ShortVector.fromMemorySegment(HALVES, w, w2 + 2L * p, LE)
                    .convertShape(VectorOperators.S2I, INTS, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            int xo = xOff + p * DOT_MR;
            FloatVector xv = FloatVector.fromArray(F, xp, xo);
            c00 = xv.fma(b0, c00);
            c01 = xv.fma(b1, c01);
            c02 = xv.fma(b2, c02);
            xv = FloatVector.fromArray(F, xp, xo + L);
            c10 = xv.fma(b0, c10);
            c11 = xv.fma(b1, c11);
            c12 = xv.fma(b2, c12);
            xv = FloatVector.fromArray(F, xp, xo + 2 * L);
            c20 = xv.fma(b0, c20);
            c21 = xv.fma(b1, c21);
            c22 = xv.fma(b2, c22);
            xv = FloatVector.fromArray(F, xp, xo + 3 * L);
            c30 = xv.fma(b0, c30);
            c31 = xv.fma(b1, c31);
            c32 = xv.fma(b2, c32);
            xv = FloatVector.fromArray(F, xp, xo + 4 * L);
            c40 = xv.fma(b0, c40);
            c41 = xv.fma(b1, c41);
            c42 = xv.fma(b2, c42);
            xv = FloatVector.fromArray(F, xp, xo + 5 * L);
            c50 = xv.fma(b0, c50);
            c51 = xv.fma(b1, c51);
            c52 = xv.fma(b2, c52);
            xv = FloatVector.fromArray(F, xp, xo + 6 * L);
            c60 = xv.fma(b0, c60);
            c61 = xv.fma(b1, c61);
            c62 = xv.fma(b2, c62);
            xv = FloatVector.fromArray(F, xp, xo + 7 * L);
            c70 = xv.fma(b0, c70);
            c71 = xv.fma(b1, c71);
            c72 = xv.fma(b2, c72);
        }
        // Reduced here, so that no vector leaves the method.
        put(c00.reduceLanes(ADD), x, m, i0, k, kv, w, DType.BF16, n, j0, bias, y);
        put(c01.reduceLanes(ADD), x, m, i0, k, kv, w, DType.BF16, n, j0 + 1, bias, y);
        put(c02.reduceLanes(ADD), x, m, i0, k, kv, w, DType.BF16, n, j0 + 2, bias, y);
        put(c10.reduceLanes(ADD), x, m, i0 + 1, k, kv, w, DType.BF16, n, j0, bias, y);
        put(c11.reduceLanes(ADD), x, m, i0 + 1, k, kv, w, DType.BF16, n, j0 + 1, bias, y);
        put(c12.reduceLanes(ADD), x, m, i0 + 1, k, kv, w, DType.BF16, n, j0 + 2, bias, y);
        put(c20.reduceLanes(ADD), x, m, i0 + 2, k, kv, w, DType.BF16, n, j0, bias, y);
        put(c21.reduceLanes(ADD), x, m, i0 + 2, k, kv, w, DType.BF16, n, j0 + 1, bias, y);
        put(c22.reduceLanes(ADD), x, m, i0 + 2, k, kv, w, DType.BF16, n, j0 + 2, bias, y);
        put(c30.reduceLanes(ADD), x, m, i0 + 3, k, kv, w, DType.BF16, n, j0, bias, y);
        put(c31.reduceLanes(ADD), x, m, i0 + 3, k, kv, w, DType.BF16, n, j0 + 1, bias, y);
        put(c32.reduceLanes(ADD), x, m, i0 + 3, k, kv, w, DType.BF16, n, j0 + 2, bias, y);
        put(c40.reduceLanes(ADD), x, m, i0 + 4, k, kv, w, DType.BF16, n, j0, bias, y);
        put(c41.reduceLanes(ADD), x, m, i0 + 4, k, kv, w, DType.BF16, n, j0 + 1, bias, y);
        put(c42.reduceLanes(ADD), x, m, i0 + 4, k, kv, w, DType.BF16, n, j0 + 2, bias, y);
        put(c50.reduceLanes(ADD), x, m, i0 + 5, k, kv, w, DType.BF16, n, j0, bias, y);
        put(c51.reduceLanes(ADD), x, m, i0 + 5, k, kv, w, DType.BF16, n, j0 + 1, bias, y);
        put(c52.reduceLanes(ADD), x, m, i0 + 5, k, kv, w, DType.BF16, n, j0 + 2, bias, y);
        put(c60.reduceLanes(ADD), x, m, i0 + 6, k, kv, w, DType.BF16, n, j0, bias, y);
        put(c61.reduceLanes(ADD), x, m, i0 + 6, k, kv, w, DType.BF16, n, j0 + 1, bias, y);
        put(c62.reduceLanes(ADD), x, m, i0 + 6, k, kv, w, DType.BF16, n, j0 + 2, bias, y);
        put(c70.reduceLanes(ADD), x, m, i0 + 7, k, kv, w, DType.BF16, n, j0, bias, y);
        put(c71.reduceLanes(ADD), x, m, i0 + 7, k, kv, w, DType.BF16, n, j0 + 1, bias, y);
        put(c72.reduceLanes(ADD), x, m, i0 + 7, k, kv, w, DType.BF16, n, j0 + 2, bias, y);
    }

    /**
     * The f16 dot kernel: as {@link #dotF32}, on three weight rows decoded beforehand into
     * {@code rows} ({@code [3][kv]}): the f16 decode needs too many registers to share the loop
     * with 24 accumulators.
     */
    private static void dotRows(float[] xp, int xOff, int kv, float[] rows, MemorySegment w, DType type, int k,
                                int n, int j0, float[] x, int m, int i0, float[] bias, float[] y) {
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F), c02 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F), c11 = FloatVector.zero(F), c12 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F), c21 = FloatVector.zero(F), c22 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F), c31 = FloatVector.zero(F), c32 = FloatVector.zero(F);
        FloatVector c40 = FloatVector.zero(F), c41 = FloatVector.zero(F), c42 = FloatVector.zero(F);
        FloatVector c50 = FloatVector.zero(F), c51 = FloatVector.zero(F), c52 = FloatVector.zero(F);
        FloatVector c60 = FloatVector.zero(F), c61 = FloatVector.zero(F), c62 = FloatVector.zero(F);
        FloatVector c70 = FloatVector.zero(F), c71 = FloatVector.zero(F), c72 = FloatVector.zero(F);
        {
            for (int p = 0; p < kv; p += L) {
                FloatVector b0 = FloatVector.fromArray(F, rows, p);
                FloatVector b1 = FloatVector.fromArray(F, rows, kv + p);
                FloatVector b2 = FloatVector.fromArray(F, rows, 2 * kv + p);
                int xo = xOff + p * DOT_MR;
                FloatVector xv = FloatVector.fromArray(F, xp, xo);
                c00 = xv.fma(b0, c00);
                c01 = xv.fma(b1, c01);
                c02 = xv.fma(b2, c02);
                xv = FloatVector.fromArray(F, xp, xo + L);
                c10 = xv.fma(b0, c10);
                c11 = xv.fma(b1, c11);
                c12 = xv.fma(b2, c12);
                xv = FloatVector.fromArray(F, xp, xo + 2 * L);
                c20 = xv.fma(b0, c20);
                c21 = xv.fma(b1, c21);
                c22 = xv.fma(b2, c22);
                xv = FloatVector.fromArray(F, xp, xo + 3 * L);
                c30 = xv.fma(b0, c30);
                c31 = xv.fma(b1, c31);
                c32 = xv.fma(b2, c32);
                xv = FloatVector.fromArray(F, xp, xo + 4 * L);
                c40 = xv.fma(b0, c40);
                c41 = xv.fma(b1, c41);
                c42 = xv.fma(b2, c42);
                xv = FloatVector.fromArray(F, xp, xo + 5 * L);
                c50 = xv.fma(b0, c50);
                c51 = xv.fma(b1, c51);
                c52 = xv.fma(b2, c52);
                xv = FloatVector.fromArray(F, xp, xo + 6 * L);
                c60 = xv.fma(b0, c60);
                c61 = xv.fma(b1, c61);
                c62 = xv.fma(b2, c62);
                xv = FloatVector.fromArray(F, xp, xo + 7 * L);
                c70 = xv.fma(b0, c70);
                c71 = xv.fma(b1, c71);
                c72 = xv.fma(b2, c72);
            }
        }
        put(c00.reduceLanes(ADD), x, m, i0, k, kv, w, type, n, j0, bias, y);
        put(c01.reduceLanes(ADD), x, m, i0, k, kv, w, type, n, j0 + 1, bias, y);
        put(c02.reduceLanes(ADD), x, m, i0, k, kv, w, type, n, j0 + 2, bias, y);
        put(c10.reduceLanes(ADD), x, m, i0 + 1, k, kv, w, type, n, j0, bias, y);
        put(c11.reduceLanes(ADD), x, m, i0 + 1, k, kv, w, type, n, j0 + 1, bias, y);
        put(c12.reduceLanes(ADD), x, m, i0 + 1, k, kv, w, type, n, j0 + 2, bias, y);
        put(c20.reduceLanes(ADD), x, m, i0 + 2, k, kv, w, type, n, j0, bias, y);
        put(c21.reduceLanes(ADD), x, m, i0 + 2, k, kv, w, type, n, j0 + 1, bias, y);
        put(c22.reduceLanes(ADD), x, m, i0 + 2, k, kv, w, type, n, j0 + 2, bias, y);
        put(c30.reduceLanes(ADD), x, m, i0 + 3, k, kv, w, type, n, j0, bias, y);
        put(c31.reduceLanes(ADD), x, m, i0 + 3, k, kv, w, type, n, j0 + 1, bias, y);
        put(c32.reduceLanes(ADD), x, m, i0 + 3, k, kv, w, type, n, j0 + 2, bias, y);
        put(c40.reduceLanes(ADD), x, m, i0 + 4, k, kv, w, type, n, j0, bias, y);
        put(c41.reduceLanes(ADD), x, m, i0 + 4, k, kv, w, type, n, j0 + 1, bias, y);
        put(c42.reduceLanes(ADD), x, m, i0 + 4, k, kv, w, type, n, j0 + 2, bias, y);
        put(c50.reduceLanes(ADD), x, m, i0 + 5, k, kv, w, type, n, j0, bias, y);
        put(c51.reduceLanes(ADD), x, m, i0 + 5, k, kv, w, type, n, j0 + 1, bias, y);
        put(c52.reduceLanes(ADD), x, m, i0 + 5, k, kv, w, type, n, j0 + 2, bias, y);
        put(c60.reduceLanes(ADD), x, m, i0 + 6, k, kv, w, type, n, j0, bias, y);
        put(c61.reduceLanes(ADD), x, m, i0 + 6, k, kv, w, type, n, j0 + 1, bias, y);
        put(c62.reduceLanes(ADD), x, m, i0 + 6, k, kv, w, type, n, j0 + 2, bias, y);
        put(c70.reduceLanes(ADD), x, m, i0 + 7, k, kv, w, type, n, j0, bias, y);
        put(c71.reduceLanes(ADD), x, m, i0 + 7, k, kv, w, type, n, j0 + 1, bias, y);
        put(c72.reduceLanes(ADD), x, m, i0 + 7, k, kv, w, type, n, j0 + 2, bias, y);
    }


    /** Stores {@code y[i, j] = dot + the k tail past kv + bias[j]} when (i, j) is inside y. */
    private static void put(float dot, float[] x, int m, int i, int k, int kv, MemorySegment w, DType type, int n,
                            int j, float[] bias, float[] y) {
        if (i >= m || j >= n) {
            return;
        }
        long row = (long) j * k;
        for (int p = kv; p < k; p++) {
            long e = row + p;
            float wv = switch (type) {
                case F32 -> w.getAtIndex(WeightRows.F32, e);
                case BF16 -> Float.intBitsToFloat((w.getAtIndex(WeightRows.I16, e) & 0xFFFF) << 16);
                default -> Float.float16ToFloat(w.getAtIndex(WeightRows.I16, e));
            };
            dot += x[i * k + p] * wv;
        }
        y[i * n + j] = bias == null ? dot : dot + bias[j];
    }

    /** The running thread's scratch array for {@code key}, of at least {@code size} floats. */
    private static float[] buffer(Scratch.Key key, int size) {
        return Scratch.current().floats(key, size);
    }

    private static void initRow(float[] y, int rowOff, int from, int to, float[] bias) {
        if (bias == null) {
            Arrays.fill(y, rowOff + from, rowOff + to, 0f);
        } else {
            System.arraycopy(bias, from, y, rowOff + from, to - from);
        }
    }

    /** Sliver {@code ms} of x as {@code [k][mr]}, rows past m zero. */
    private static void packA(float[] x, int m, int k, int ms, int mr, float[] aPack) {
        int base = ms * k * mr;
        for (int r = 0; r < mr; r++) {
            int i = ms * mr + r;
            if (i >= m) {
                for (int p = 0; p < k; p++) {
                    aPack[base + p * mr + r] = 0f;
                }
                continue;
            }
            int xo = i * k;
            for (int p = 0; p < k; p++) {
                aPack[base + p * mr + r] = x[xo + p];
            }
        }
    }

    /**
     * Weight slivers {@code s0 .. s1} × columns {@code pc .. pc+kc} as {@code [kc][nr]} each,
     * decoded, rows past n zero. Each group of {@code L} weight rows is decoded into {@code rows}
     * ({@code [L][kc]}) and then transposed, 16 × 16 in registers where vectors have 16 lanes.
     */
    private static void packB(DecodedRows w, int n, int s0, int s1, int nr, int pc, int kc, float[] rows,
                              float[] bPack) {
        for (int s = s0; s < s1; s++) {
            int base = (s - s0) * kc * nr;
            for (int g = 0; g < nr; g += L) {
                int r0 = s * nr + g;
                for (int i = 0; i < L; i++) {
                    if (r0 + i < n) {
                        w.decode(r0 + i, pc, kc, rows, i * kc);
                    } else {
                        Arrays.fill(rows, i * kc, (i + 1) * kc, 0f);
                    }
                }
                int p = 0;
                if (L == 16) {
                    for (; p + 16 <= kc; p += 16) {
                        transpose16(rows, p, kc, bPack, base + p * nr + g, nr);
                    }
                }
                for (; p < kc; p++) {
                    for (int i = 0; i < L; i++) {
                        bPack[base + p * nr + g + i] = rows[i * kc + p];
                    }
                }
            }
        }
    }

    /** {@code w[row, from .. from+len)} decoded into {@code out[at ..]}, with vectors for bf16 and f16. */
    private static void decodeRow(MemorySegment w, DType type, int k, int row, int from, int len, float[] out, int at) {
        long base = ((long) row * k + from) * type.byteSize();
        int p = 0;
        switch (type) {
            case F32 -> {
                MemorySegment.copy(w, WeightRows.F32, base, out, at, len);
                return;
            }
            case BF16 -> {
                for (; p + L <= len; p += L) {
                    VectorKernels.bf16(w, base + 2L * p, out, at + p);
                }
            }
            case F16 -> {
                for (; p + L <= len; p += L) {
                    VectorKernels.f16(w, base + 2L * p, out, at + p);
                }
            }
            default -> throw new ConfigException("JVM kernels take F32, BF16 or F16 weights, not " + type);
        }
        long e = (long) row * k + from;
        for (; p < len; p++) { // the last few, one at a time
            short h = w.getAtIndex(WeightRows.I16, e + p);
            out[at + p] = type == DType.BF16 ? Float.intBitsToFloat((h & 0xFFFF) << 16) : Float.float16ToFloat(h);
        }
    }

    // Index vectors for the butterfly transpose: stage s swaps bit s of the row and lane index
    // between vectors i and i+s (i without bit s), as two-vector selects (lanes 16.. pick the second).
    private static final FloatVector[] LO = new FloatVector[5];
    private static final FloatVector[] HI = new FloatVector[5];

    static {
        if (L == 16) {
            for (int bit = 0; bit < 4; bit++) {
                int st = 1 << bit;
                float[] lo = new float[16];
                float[] hi = new float[16];
                for (int j = 0; j < 16; j++) {
                    lo[j] = (j & st) == 0 ? j : 16 + j - st;
                    hi[j] = (j & st) == 0 ? j + st : 16 + j;
                }
                LO[bit] = FloatVector.fromArray(F, lo, 0);
                HI[bit] = FloatVector.fromArray(F, hi, 0);
            }
        }
    }

    /**
     * Sixteen rows {@code src[i·lds + p ..+16]} to sixteen vectors {@code dst[dOff + j·ldd ..+16]}
     * holding column {@code p + j}: four butterfly stages of two-vector selects, all in registers.
     */
    private static void transpose16(float[] src, int p, int lds, float[] dst, int dOff, int ldd) {
        FloatVector v0 = FloatVector.fromArray(F, src, p);
        FloatVector v1 = FloatVector.fromArray(F, src, p + lds);
        FloatVector v2 = FloatVector.fromArray(F, src, p + 2 * lds);
        FloatVector v3 = FloatVector.fromArray(F, src, p + 3 * lds);
        FloatVector v4 = FloatVector.fromArray(F, src, p + 4 * lds);
        FloatVector v5 = FloatVector.fromArray(F, src, p + 5 * lds);
        FloatVector v6 = FloatVector.fromArray(F, src, p + 6 * lds);
        FloatVector v7 = FloatVector.fromArray(F, src, p + 7 * lds);
        FloatVector v8 = FloatVector.fromArray(F, src, p + 8 * lds);
        FloatVector v9 = FloatVector.fromArray(F, src, p + 9 * lds);
        FloatVector va = FloatVector.fromArray(F, src, p + 10 * lds);
        FloatVector vb = FloatVector.fromArray(F, src, p + 11 * lds);
        FloatVector vc = FloatVector.fromArray(F, src, p + 12 * lds);
        FloatVector vd = FloatVector.fromArray(F, src, p + 13 * lds);
        FloatVector ve = FloatVector.fromArray(F, src, p + 14 * lds);
        FloatVector vf = FloatVector.fromArray(F, src, p + 15 * lds);
        FloatVector lo = LO[3], hi = HI[3];
        FloatVector t0 = lo.selectFrom(v0, v8), t8 = hi.selectFrom(v0, v8);
        FloatVector t1 = lo.selectFrom(v1, v9), t9 = hi.selectFrom(v1, v9);
        FloatVector t2 = lo.selectFrom(v2, va), ta = hi.selectFrom(v2, va);
        FloatVector t3 = lo.selectFrom(v3, vb), tb = hi.selectFrom(v3, vb);
        FloatVector t4 = lo.selectFrom(v4, vc), tc = hi.selectFrom(v4, vc);
        FloatVector t5 = lo.selectFrom(v5, vd), td = hi.selectFrom(v5, vd);
        FloatVector t6 = lo.selectFrom(v6, ve), te = hi.selectFrom(v6, ve);
        FloatVector t7 = lo.selectFrom(v7, vf), tf = hi.selectFrom(v7, vf);
        lo = LO[2];
        hi = HI[2];
        v0 = lo.selectFrom(t0, t4);
        v4 = hi.selectFrom(t0, t4);
        v1 = lo.selectFrom(t1, t5);
        v5 = hi.selectFrom(t1, t5);
        v2 = lo.selectFrom(t2, t6);
        v6 = hi.selectFrom(t2, t6);
        v3 = lo.selectFrom(t3, t7);
        v7 = hi.selectFrom(t3, t7);
        v8 = lo.selectFrom(t8, tc);
        vc = hi.selectFrom(t8, tc);
        v9 = lo.selectFrom(t9, td);
        vd = hi.selectFrom(t9, td);
        va = lo.selectFrom(ta, te);
        ve = hi.selectFrom(ta, te);
        vb = lo.selectFrom(tb, tf);
        vf = hi.selectFrom(tb, tf);
        lo = LO[1];
        hi = HI[1];
        t0 = lo.selectFrom(v0, v2);
        t2 = hi.selectFrom(v0, v2);
        t1 = lo.selectFrom(v1, v3);
        t3 = hi.selectFrom(v1, v3);
        t4 = lo.selectFrom(v4, v6);
        t6 = hi.selectFrom(v4, v6);
        t5 = lo.selectFrom(v5, v7);
        t7 = hi.selectFrom(v5, v7);
        t8 = lo.selectFrom(v8, va);
        ta = hi.selectFrom(v8, va);
        t9 = lo.selectFrom(v9, vb);
        tb = hi.selectFrom(v9, vb);
        tc = lo.selectFrom(vc, ve);
        te = hi.selectFrom(vc, ve);
        td = lo.selectFrom(vd, vf);
        tf = hi.selectFrom(vd, vf);
        lo = LO[0];
        hi = HI[0];
        lo.selectFrom(t0, t1).intoArray(dst, dOff);
        hi.selectFrom(t0, t1).intoArray(dst, dOff + ldd);
        lo.selectFrom(t2, t3).intoArray(dst, dOff + 2 * ldd);
        hi.selectFrom(t2, t3).intoArray(dst, dOff + 3 * ldd);
        lo.selectFrom(t4, t5).intoArray(dst, dOff + 4 * ldd);
        hi.selectFrom(t4, t5).intoArray(dst, dOff + 5 * ldd);
        lo.selectFrom(t6, t7).intoArray(dst, dOff + 6 * ldd);
        hi.selectFrom(t6, t7).intoArray(dst, dOff + 7 * ldd);
        lo.selectFrom(t8, t9).intoArray(dst, dOff + 8 * ldd);
        hi.selectFrom(t8, t9).intoArray(dst, dOff + 9 * ldd);
        lo.selectFrom(ta, tb).intoArray(dst, dOff + 10 * ldd);
        hi.selectFrom(ta, tb).intoArray(dst, dOff + 11 * ldd);
        lo.selectFrom(tc, td).intoArray(dst, dOff + 12 * ldd);
        hi.selectFrom(tc, td).intoArray(dst, dOff + 13 * ldd);
        lo.selectFrom(te, tf).intoArray(dst, dOff + 14 * ldd);
        hi.selectFrom(te, tf).intoArray(dst, dOff + 15 * ldd);
    }

    /**
     * The 8 × 3-vector micro-kernel: per step of k three weight vectors and eight broadcasts of
     * x feed 24 FMAs. The tile {@code c[cOff + r·ldc ..]} is overwritten, or added to when
     * {@code accumulate}. Offsets come from the loop counter, not separately stepped variables,
     * so that C2 can hoist the array bounds checks.
     */
    private static void kernel8x3(float[] a, int aOff, float[] b, int bOff, int kc, float[] c, int cOff, int ldc,
                                  boolean accumulate) {
        final int mr = 8;
        final int nr = 3 * L;
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F), c02 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F), c11 = FloatVector.zero(F), c12 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F), c21 = FloatVector.zero(F), c22 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F), c31 = FloatVector.zero(F), c32 = FloatVector.zero(F);
        FloatVector c40 = FloatVector.zero(F), c41 = FloatVector.zero(F), c42 = FloatVector.zero(F);
        FloatVector c50 = FloatVector.zero(F), c51 = FloatVector.zero(F), c52 = FloatVector.zero(F);
        FloatVector c60 = FloatVector.zero(F), c61 = FloatVector.zero(F), c62 = FloatVector.zero(F);
        FloatVector c70 = FloatVector.zero(F), c71 = FloatVector.zero(F), c72 = FloatVector.zero(F);
        for (int p = 0; p < kc; p++) {
            int bo = bOff + p * nr;
            int ao = aOff + p * mr;
            FloatVector b0 = FloatVector.fromArray(F, b, bo);
            FloatVector b1 = FloatVector.fromArray(F, b, bo + L);
            FloatVector b2 = FloatVector.fromArray(F, b, bo + 2 * L);
            FloatVector xv = FloatVector.broadcast(F, a[ao]);
            c00 = xv.fma(b0, c00);
            c01 = xv.fma(b1, c01);
            c02 = xv.fma(b2, c02);
            xv = FloatVector.broadcast(F, a[ao + 1]);
            c10 = xv.fma(b0, c10);
            c11 = xv.fma(b1, c11);
            c12 = xv.fma(b2, c12);
            xv = FloatVector.broadcast(F, a[ao + 2]);
            c20 = xv.fma(b0, c20);
            c21 = xv.fma(b1, c21);
            c22 = xv.fma(b2, c22);
            xv = FloatVector.broadcast(F, a[ao + 3]);
            c30 = xv.fma(b0, c30);
            c31 = xv.fma(b1, c31);
            c32 = xv.fma(b2, c32);
            xv = FloatVector.broadcast(F, a[ao + 4]);
            c40 = xv.fma(b0, c40);
            c41 = xv.fma(b1, c41);
            c42 = xv.fma(b2, c42);
            xv = FloatVector.broadcast(F, a[ao + 5]);
            c50 = xv.fma(b0, c50);
            c51 = xv.fma(b1, c51);
            c52 = xv.fma(b2, c52);
            xv = FloatVector.broadcast(F, a[ao + 6]);
            c60 = xv.fma(b0, c60);
            c61 = xv.fma(b1, c61);
            c62 = xv.fma(b2, c62);
            xv = FloatVector.broadcast(F, a[ao + 7]);
            c70 = xv.fma(b0, c70);
            c71 = xv.fma(b1, c71);
            c72 = xv.fma(b2, c72);
        }
        int o0 = cOff, o1 = o0 + ldc, o2 = o1 + ldc, o3 = o2 + ldc, o4 = o3 + ldc, o5 = o4 + ldc, o6 = o5 + ldc,
                o7 = o6 + ldc;
        // Two branches, not a reassignment: a vector merged at a join point may be boxed.
        if (accumulate) {
            c00.add(FloatVector.fromArray(F, c, o0)).intoArray(c, o0);
            c01.add(FloatVector.fromArray(F, c, o0 + L)).intoArray(c, o0 + L);
            c02.add(FloatVector.fromArray(F, c, o0 + 2 * L)).intoArray(c, o0 + 2 * L);
            c10.add(FloatVector.fromArray(F, c, o1)).intoArray(c, o1);
            c11.add(FloatVector.fromArray(F, c, o1 + L)).intoArray(c, o1 + L);
            c12.add(FloatVector.fromArray(F, c, o1 + 2 * L)).intoArray(c, o1 + 2 * L);
            c20.add(FloatVector.fromArray(F, c, o2)).intoArray(c, o2);
            c21.add(FloatVector.fromArray(F, c, o2 + L)).intoArray(c, o2 + L);
            c22.add(FloatVector.fromArray(F, c, o2 + 2 * L)).intoArray(c, o2 + 2 * L);
            c30.add(FloatVector.fromArray(F, c, o3)).intoArray(c, o3);
            c31.add(FloatVector.fromArray(F, c, o3 + L)).intoArray(c, o3 + L);
            c32.add(FloatVector.fromArray(F, c, o3 + 2 * L)).intoArray(c, o3 + 2 * L);
            c40.add(FloatVector.fromArray(F, c, o4)).intoArray(c, o4);
            c41.add(FloatVector.fromArray(F, c, o4 + L)).intoArray(c, o4 + L);
            c42.add(FloatVector.fromArray(F, c, o4 + 2 * L)).intoArray(c, o4 + 2 * L);
            c50.add(FloatVector.fromArray(F, c, o5)).intoArray(c, o5);
            c51.add(FloatVector.fromArray(F, c, o5 + L)).intoArray(c, o5 + L);
            c52.add(FloatVector.fromArray(F, c, o5 + 2 * L)).intoArray(c, o5 + 2 * L);
            c60.add(FloatVector.fromArray(F, c, o6)).intoArray(c, o6);
            c61.add(FloatVector.fromArray(F, c, o6 + L)).intoArray(c, o6 + L);
            c62.add(FloatVector.fromArray(F, c, o6 + 2 * L)).intoArray(c, o6 + 2 * L);
            c70.add(FloatVector.fromArray(F, c, o7)).intoArray(c, o7);
            c71.add(FloatVector.fromArray(F, c, o7 + L)).intoArray(c, o7 + L);
            c72.add(FloatVector.fromArray(F, c, o7 + 2 * L)).intoArray(c, o7 + 2 * L);
        } else {
            c00.intoArray(c, o0);
            c01.intoArray(c, o0 + L);
            c02.intoArray(c, o0 + 2 * L);
            c10.intoArray(c, o1);
            c11.intoArray(c, o1 + L);
            c12.intoArray(c, o1 + 2 * L);
            c20.intoArray(c, o2);
            c21.intoArray(c, o2 + L);
            c22.intoArray(c, o2 + 2 * L);
            c30.intoArray(c, o3);
            c31.intoArray(c, o3 + L);
            c32.intoArray(c, o3 + 2 * L);
            c40.intoArray(c, o4);
            c41.intoArray(c, o4 + L);
            c42.intoArray(c, o4 + 2 * L);
            c50.intoArray(c, o5);
            c51.intoArray(c, o5 + L);
            c52.intoArray(c, o5 + 2 * L);
            c60.intoArray(c, o6);
            c61.intoArray(c, o6 + L);
            c62.intoArray(c, o6 + 2 * L);
            c70.intoArray(c, o7);
            c71.intoArray(c, o7 + L);
            c72.intoArray(c, o7 + 2 * L);
        }
    }

    /** The 6 × 2-vector micro-kernel for 16-register CPUs; otherwise as {@link #kernel8x3}. */
    private static void kernel6x2(float[] a, int aOff, float[] b, int bOff, int kc, float[] c, int cOff, int ldc,
                                  boolean accumulate) {
        final int mr = 6;
        final int nr = 2 * L;
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F), c11 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F), c21 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F), c31 = FloatVector.zero(F);
        FloatVector c40 = FloatVector.zero(F), c41 = FloatVector.zero(F);
        FloatVector c50 = FloatVector.zero(F), c51 = FloatVector.zero(F);
        for (int p = 0; p < kc; p++) {
            int bo = bOff + p * nr;
            int ao = aOff + p * mr;
            FloatVector b0 = FloatVector.fromArray(F, b, bo);
            FloatVector b1 = FloatVector.fromArray(F, b, bo + L);
            FloatVector xv = FloatVector.broadcast(F, a[ao]);
            c00 = xv.fma(b0, c00);
            c01 = xv.fma(b1, c01);
            xv = FloatVector.broadcast(F, a[ao + 1]);
            c10 = xv.fma(b0, c10);
            c11 = xv.fma(b1, c11);
            xv = FloatVector.broadcast(F, a[ao + 2]);
            c20 = xv.fma(b0, c20);
            c21 = xv.fma(b1, c21);
            xv = FloatVector.broadcast(F, a[ao + 3]);
            c30 = xv.fma(b0, c30);
            c31 = xv.fma(b1, c31);
            xv = FloatVector.broadcast(F, a[ao + 4]);
            c40 = xv.fma(b0, c40);
            c41 = xv.fma(b1, c41);
            xv = FloatVector.broadcast(F, a[ao + 5]);
            c50 = xv.fma(b0, c50);
            c51 = xv.fma(b1, c51);
        }
        int o0 = cOff, o1 = o0 + ldc, o2 = o1 + ldc, o3 = o2 + ldc, o4 = o3 + ldc, o5 = o4 + ldc;
        // Two branches, not a reassignment: a vector merged at a join point may be boxed.
        if (accumulate) {
            c00.add(FloatVector.fromArray(F, c, o0)).intoArray(c, o0);
            c01.add(FloatVector.fromArray(F, c, o0 + L)).intoArray(c, o0 + L);
            c10.add(FloatVector.fromArray(F, c, o1)).intoArray(c, o1);
            c11.add(FloatVector.fromArray(F, c, o1 + L)).intoArray(c, o1 + L);
            c20.add(FloatVector.fromArray(F, c, o2)).intoArray(c, o2);
            c21.add(FloatVector.fromArray(F, c, o2 + L)).intoArray(c, o2 + L);
            c30.add(FloatVector.fromArray(F, c, o3)).intoArray(c, o3);
            c31.add(FloatVector.fromArray(F, c, o3 + L)).intoArray(c, o3 + L);
            c40.add(FloatVector.fromArray(F, c, o4)).intoArray(c, o4);
            c41.add(FloatVector.fromArray(F, c, o4 + L)).intoArray(c, o4 + L);
            c50.add(FloatVector.fromArray(F, c, o5)).intoArray(c, o5);
            c51.add(FloatVector.fromArray(F, c, o5 + L)).intoArray(c, o5 + L);
        } else {
            c00.intoArray(c, o0);
            c01.intoArray(c, o0 + L);
            c10.intoArray(c, o1);
            c11.intoArray(c, o1 + L);
            c20.intoArray(c, o2);
            c21.intoArray(c, o2 + L);
            c30.intoArray(c, o3);
            c31.intoArray(c, o3 + L);
            c40.intoArray(c, o4);
            c41.intoArray(c, o4 + L);
            c50.intoArray(c, o5);
            c51.intoArray(c, o5 + L);
        }
    }

    /** Moves an edge tile's valid rows and columns into y, overwriting or adding. */
    private static void flush(float[] tile, int nr, float[] y, int n, int row0, int rows, int col0, int cols,
                              boolean accumulate) {
        for (int r = 0; r < rows; r++) {
            int off = (row0 + r) * n + col0;
            for (int c = 0; c < cols; c += L) {
                VectorMask<Float> valid = F.indexInRange(c, cols);
                FloatVector t = FloatVector.fromArray(F, tile, r * nr + c);
                if (accumulate) {
                    t.add(FloatVector.fromArray(F, y, off + c, valid)).intoArray(y, off + c, valid);
                } else {
                    t.intoArray(y, off + c, valid);
                }
            }
        }
    }
}

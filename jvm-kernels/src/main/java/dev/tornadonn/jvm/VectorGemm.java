package dev.tornadonn.jvm;

import static dev.tornadonn.jvm.VectorKernels.F;
import static dev.tornadonn.jvm.VectorKernels.L;

import dev.tornadonn.core.DType;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * The GEMM half of the vector kernels, BLIS-style. x is packed once into {@value #MR}-row slivers;
 * each task owns a block of {@value #NC_SLIVERS} weight slivers of {@code 2·lanes} rows, packs (and
 * decodes) them {@value #KC} columns at a time, and runs a {@value #MR} × 2·lanes register-blocked
 * outer-product micro-kernel with 12 accumulators.
 */
final class VectorGemm {
    static final int MR = 6;
    static final int NR = 2 * L;
    static final int KC = 256;
    static final int NC_SLIVERS = 8;
    private static final int NC = NC_SLIVERS * NR;

    private VectorGemm() {}

    static void gemm(float[] x, int m, int k, MemorySegment w, DType type, int n, float[] bias, float[] y) {
        int mSlivers = (m + MR - 1) / MR;
        float[] aPack = new float[mSlivers * k * MR];
        Parallel.forEach(mSlivers, ms -> packA(x, m, k, ms, aPack));
        int nBlocks = (n + NC - 1) / NC;
        Parallel.forEach(nBlocks, jb -> {
            int n0 = jb * NC;
            int nc = Math.min(NC, n - n0);
            int slivers = (nc + NR - 1) / NR;
            float[] bPack = new float[slivers * KC * NR];
            float[] row = new float[KC];
            float[] tile = new float[MR * NR];
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                packB(w, type, k, n, n0, slivers, pc, kc, row, bPack);
                boolean first = pc == 0;
                for (int s = 0; s < slivers; s++) {
                    int col0 = n0 + s * NR;
                    int nValid = Math.min(NR, n - col0);
                    for (int ms = 0; ms < mSlivers; ms++) {
                        int row0 = ms * MR;
                        kernel(aPack, (ms * k + pc) * MR, bPack, s * kc * NR, kc, tile);
                        flush(tile, y, n, row0, Math.min(MR, m - row0), col0, nValid, first ? bias : null, first);
                    }
                }
            }
        });
    }

    /** Sliver {@code ms} of x as {@code [k][MR]}, rows past m zero. */
    private static void packA(float[] x, int m, int k, int ms, float[] aPack) {
        int base = ms * k * MR;
        for (int r = 0; r < MR; r++) {
            int i = ms * MR + r;
            if (i >= m) {
                for (int p = 0; p < k; p++) {
                    aPack[base + p * MR + r] = 0f;
                }
                continue;
            }
            int xo = i * k;
            for (int p = 0; p < k; p++) {
                aPack[base + p * MR + r] = x[xo + p];
            }
        }
    }

    /** Weight rows {@code n0 ..} × columns {@code pc .. pc+kc} as slivers {@code [kc][NR]}, decoded, rows past n zero. */
    private static void packB(MemorySegment w, DType type, int k, int n, int n0, int slivers, int pc, int kc,
                              float[] row, float[] bPack) {
        for (int s = 0; s < slivers; s++) {
            int base = s * kc * NR;
            for (int j = 0; j < NR; j++) {
                int r = n0 + s * NR + j;
                if (r >= n) {
                    for (int p = 0; p < kc; p++) {
                        bPack[base + p * NR + j] = 0f;
                    }
                    continue;
                }
                WeightRows.decode(w, type, k, r, pc, kc, row);
                for (int p = 0; p < kc; p++) {
                    bPack[base + p * NR + j] = row[p];
                }
            }
        }
    }

    /**
     * The MR × NR micro-kernel: 12 accumulators, one broadcast of x and two weight vectors per
     * step, left in {@code tile} ({@code [MR][NR]}). The accumulators never leave this method, so
     * C2 keeps them in registers; handing them to a store helper made it spill them to the heap.
     */
    private static void kernel(float[] a, int aOff, float[] b, int bOff, int kc, float[] tile) {
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F), c11 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F), c21 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F), c31 = FloatVector.zero(F);
        FloatVector c40 = FloatVector.zero(F), c41 = FloatVector.zero(F);
        FloatVector c50 = FloatVector.zero(F), c51 = FloatVector.zero(F);
        for (int p = 0; p < kc; p++) {
            FloatVector b0 = FloatVector.fromArray(F, b, bOff);
            FloatVector b1 = FloatVector.fromArray(F, b, bOff + L);
            bOff += NR;
            FloatVector a0 = FloatVector.broadcast(F, a[aOff]);
            c00 = a0.fma(b0, c00);
            c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(F, a[aOff + 1]);
            c10 = a1.fma(b0, c10);
            c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.broadcast(F, a[aOff + 2]);
            c20 = a2.fma(b0, c20);
            c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.broadcast(F, a[aOff + 3]);
            c30 = a3.fma(b0, c30);
            c31 = a3.fma(b1, c31);
            FloatVector a4 = FloatVector.broadcast(F, a[aOff + 4]);
            c40 = a4.fma(b0, c40);
            c41 = a4.fma(b1, c41);
            FloatVector a5 = FloatVector.broadcast(F, a[aOff + 5]);
            c50 = a5.fma(b0, c50);
            c51 = a5.fma(b1, c51);
            aOff += MR;
        }
        c00.intoArray(tile, 0);
        c01.intoArray(tile, L);
        c10.intoArray(tile, NR);
        c11.intoArray(tile, NR + L);
        c20.intoArray(tile, 2 * NR);
        c21.intoArray(tile, 2 * NR + L);
        c30.intoArray(tile, 3 * NR);
        c31.intoArray(tile, 3 * NR + L);
        c40.intoArray(tile, 4 * NR);
        c41.intoArray(tile, 4 * NR + L);
        c50.intoArray(tile, 5 * NR);
        c51.intoArray(tile, 5 * NR + L);
    }

    /** Moves a tile's valid rows and columns into y: the first K block writes (adding the bias), later ones accumulate. */
    private static void flush(float[] tile, float[] y, int n, int row0, int mValid, int col0, int nValid,
                              float[] bias, boolean first) {
        VectorMask<Float> m0 = F.indexInRange(0, nValid);
        VectorMask<Float> m1 = F.indexInRange(L, nValid);
        for (int r = 0; r < mValid; r++) {
            int off = (row0 + r) * n + col0;
            FloatVector c0 = FloatVector.fromArray(F, tile, r * NR);
            FloatVector c1 = FloatVector.fromArray(F, tile, r * NR + L);
            c0 = first ? addBias(c0, bias, col0, m0) : c0.add(FloatVector.fromArray(F, y, off, m0));
            c1 = first ? addBias(c1, bias, col0 + L, m1) : c1.add(FloatVector.fromArray(F, y, off + L, m1));
            c0.intoArray(y, off, m0);
            c1.intoArray(y, off + L, m1);
        }
    }

    private static FloatVector addBias(FloatVector c, float[] bias, int col, VectorMask<Float> mask) {
        return bias == null ? c : c.add(FloatVector.fromArray(F, bias, col, mask));
    }
}

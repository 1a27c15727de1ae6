package dev.tornadonn.twins;

import static dev.tornadonn.twins.KernelGeometry.BLOCK;
import static dev.tornadonn.twins.KernelGeometry.PADDED;
import static dev.tornadonn.twins.KernelGeometry.TILE;
import static dev.tornadonn.twins.KernelGeometry.TILE_OUT;

/**
 * The tiled GEMM kernel run in plain Java, one work-group at a time, each barrier-delimited phase
 * a loop over the group's work-items: the same indices, bounds and zero padding as the device
 * kernel ({@code dev.tornadonn.tornado.DeviceKernels#gemm}), so the default build checks them.
 *
 * <p>{@code y = epilogue(x · Wᵀ)} for x {@code (m, k)} and W {@code (n, k)}; when {@code gated}, W
 * holds {@code 2n} rows (gate, then up) and y {@code (m, n)} receives {@code act(gate)·up}.
 */
public final class TiledGemmTwin {
    private TiledGemmTwin() {}

    /** {@code w} decodes weight (row, col) as the kernel does: {@code KernelWeight::at} for the device's arrays. */
    public static void run(float[] x, int m, TwinWeights w, float[] bias, float[] y, int n, int k, int act,
                           int gated, int hasBias) {
        float[] xs = new float[TILE_OUT * PADDED];
        float[] gs = new float[TILE_OUT * PADDED];
        float[] us = new float[TILE_OUT * PADDED];
        // each work-item's BLOCK × BLOCK accumulators, for all TILE × TILE work-items of the group
        float[][] accGate = new float[TILE * TILE][BLOCK * BLOCK];
        float[][] accUp = new float[TILE * TILE][BLOCK * BLOCK];
        for (int groupY = 0; groupY < KernelGeometry.groups(m); groupY++) {
            for (int groupX = 0; groupX < KernelGeometry.groups(n); groupX++) {
                int m0 = groupY * TILE_OUT;
                int n0 = groupX * TILE_OUT;
                for (float[] a : accGate) {
                    java.util.Arrays.fill(a, 0f);
                }
                for (float[] a : accUp) {
                    java.util.Arrays.fill(a, 0f);
                }
                for (int k0 = 0; k0 < k; k0 += TILE) {
                    for (int ly = 0; ly < TILE; ly++) {
                        for (int lx = 0; lx < TILE; lx++) {
                            int kk = k0 + lx;
                            for (int r = 0; r < BLOCK; r++) {
                                int local = ly + TILE * r;
                                int row = m0 + local;
                                int wRow = n0 + local;
                                xs[local * PADDED + lx] = kk < k && row < m ? x[row * k + kk] : 0.0f;
                                gs[local * PADDED + lx] = kk < k && wRow < n ? w.at(wRow, kk) : 0.0f;
                                us[local * PADDED + lx] = kk < k && wRow < n && gated != 0 ? w.at(n + wRow, kk) : 0.0f;
                            }
                        }
                    }
                    // barrier
                    for (int ly = 0; ly < TILE; ly++) {
                        for (int lx = 0; lx < TILE; lx++) {
                            float[] g = accGate[ly * TILE + lx];
                            float[] u = accUp[ly * TILE + lx];
                            for (int t = 0; t < TILE; t++) {
                                for (int i = 0; i < BLOCK; i++) {
                                    float xv = xs[(ly + TILE * i) * PADDED + t];
                                    for (int j = 0; j < BLOCK; j++) {
                                        g[i * BLOCK + j] += xv * gs[(lx + TILE * j) * PADDED + t];
                                        u[i * BLOCK + j] += xv * us[(lx + TILE * j) * PADDED + t];
                                    }
                                }
                            }
                        }
                    }
                    // barrier
                }
                for (int ly = 0; ly < TILE; ly++) {
                    for (int lx = 0; lx < TILE; lx++) {
                        for (int i = 0; i < BLOCK; i++) {
                            for (int j = 0; j < BLOCK; j++) {
                                int row = m0 + ly + TILE * i;
                                int col = n0 + lx + TILE * j;
                                if (row < m && col < n) {
                                    y[row * n + col] = TwinEpilogue.store(accGate[ly * TILE + lx][i * BLOCK + j],
                                            accUp[ly * TILE + lx][i * BLOCK + j], bias, col, n, act, gated, hasBias);
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

package dev.tornadonn.twins;

import static dev.tornadonn.twins.KernelGeometry.PADDED;
import static dev.tornadonn.twins.KernelGeometry.TILE;

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

    public static void run(float[] x, int m, WeightArray w, float[] bias, float[] y, int n, int k, int act,
                           int gated, int hasBias) {
        float[] xs = new float[TILE * PADDED];
        float[] gs = new float[TILE * PADDED];
        float[] us = new float[TILE * PADDED];
        float[] accGate = new float[TILE * TILE];
        float[] accUp = new float[TILE * TILE];
        for (int groupY = 0; groupY < KernelGeometry.tiles(m) / TILE; groupY++) {
            for (int groupX = 0; groupX < KernelGeometry.tiles(n) / TILE; groupX++) {
                java.util.Arrays.fill(accGate, 0f);
                java.util.Arrays.fill(accUp, 0f);
                for (int k0 = 0; k0 < k; k0 += TILE) {
                    for (int ly = 0; ly < TILE; ly++) {
                        for (int lx = 0; lx < TILE; lx++) {
                            int row = groupY * TILE + ly;
                            int wRow = groupX * TILE + ly;
                            int kk = k0 + lx;
                            boolean kIn = kk < k;
                            xs[ly * PADDED + lx] = row < m && kIn ? x[row * k + kk] : 0.0f;
                            gs[ly * PADDED + lx] = wRow < n && kIn ? w.get(wRow * k + kk) : 0.0f;
                            if (gated != 0) {
                                us[ly * PADDED + lx] = wRow < n && kIn ? w.get(n * k + wRow * k + kk) : 0.0f;
                            }
                        }
                    }
                    // barrier
                    for (int ly = 0; ly < TILE; ly++) {
                        for (int lx = 0; lx < TILE; lx++) {
                            for (int t = 0; t < TILE; t++) {
                                float xv = xs[ly * PADDED + t];
                                accGate[ly * TILE + lx] += xv * gs[lx * PADDED + t];
                                if (gated != 0) {
                                    accUp[ly * TILE + lx] += xv * us[lx * PADDED + t];
                                }
                            }
                        }
                    }
                    // barrier
                }
                for (int ly = 0; ly < TILE; ly++) {
                    for (int lx = 0; lx < TILE; lx++) {
                        int row = groupY * TILE + ly;
                        int col = groupX * TILE + lx;
                        if (row < m && col < n) {
                            y[row * n + col] = TwinEpilogue.store(accGate[ly * TILE + lx], accUp[ly * TILE + lx],
                                    bias, col, n, act, gated, hasBias);
                        }
                    }
                }
            }
        }
    }
}

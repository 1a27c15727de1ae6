package dev.tornadonn.twins;

import static dev.tornadonn.twins.KernelGeometry.GEMV_THREADS;

/**
 * The GEMV kernel run in plain Java: one work-group per (row of x, output feature), each work-item
 * summing a strided slice of K, then the local-memory tree reduction, step by step as the device
 * kernel ({@code dev.tornadonn.tornado.DeviceKernels#gemv}) does it. Shapes as {@link TiledGemmTwin}.
 */
public final class RowGemvTwin {
    private RowGemvTwin() {}

    /** {@code w} decodes weight (row, col) as the kernel does: {@code KernelWeight::at} for the device's arrays. */
    public static void run(float[] x, int m, TwinWeights w, float[] bias, float[] y, int n, int k, int act,
                           int gated, int hasBias) {
        float[] sumGate = new float[GEMV_THREADS];
        float[] sumUp = new float[GEMV_THREADS];
        for (int row = 0; row < m; row++) {
            for (int col = 0; col < n; col++) {
                for (int lid = 0; lid < GEMV_THREADS; lid++) {
                    float accGate = 0.0f;
                    float accUp = 0.0f;
                    for (int i = lid; i < k; i += GEMV_THREADS) {
                        float xv = x[row * k + i];
                        accGate += xv * w.at(col, i);
                        if (gated != 0) {
                            accUp += xv * w.at(n + col, i);
                        }
                    }
                    sumGate[lid] = accGate;
                    sumUp[lid] = accUp;
                }
                for (int stride = GEMV_THREADS / 2; stride > 0; stride >>= 1) {
                    for (int lid = 0; lid < stride; lid++) {
                        sumGate[lid] += sumGate[lid + stride];
                        sumUp[lid] += sumUp[lid + stride];
                    }
                }
                y[row * n + col] = TwinEpilogue.store(sumGate[0], sumUp[0], bias, col, n, act, gated, hasBias);
            }
        }
    }
}

package dev.tornadonn.twins;

/** The twins' store step: the device kernels' epilogue with {@link Math#exp} standing in for the device's exp. */
final class TwinEpilogue {
    private TwinEpilogue() {}

    static float store(float accGate, float accUp, float[] bias, int col, int n, int act, int gated, int hasBias) {
        float g = accGate + (hasBias != 0 ? bias[col] : 0.0f);
        float u = gated != 0 ? accUp + (hasBias != 0 ? bias[n + col] : 0.0f) : 0.0f;
        float e = (float) Math.exp(KernelActivation.argument(act, g));
        return Epilogue.apply(act, g, e, gated, u);
    }
}

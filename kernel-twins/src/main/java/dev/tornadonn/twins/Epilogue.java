package dev.tornadonn.twins;

/**
 * What a kernel does with its accumulators before the store: add the bias, apply the activation,
 * and for a gate/up pair multiply by the up projection: {@code act(gate + b_g) · (up + b_u)}.
 * {@code e} is {@code exp(KernelActivation.argument(act, gate + b_g))}, computed by the caller.
 */
public final class Epilogue {
    private Epilogue() {}

    public static float apply(int act, float biased, float e, int gated, float up) {
        float r = KernelActivation.finish(act, biased, e);
        if (gated != 0) {
            r = r * up;
        }
        return r;
    }
}

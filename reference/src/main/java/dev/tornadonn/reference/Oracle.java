package dev.tornadonn.reference;

import dev.tornadonn.core.Activation;
import dev.tornadonn.core.Tensor;
import org.apache.commons.math3.special.Erf;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;

/**
 * The float64 truth every backend is measured against. Inputs are decoded exactly (every bf16,
 * f16 and fp8 value is a double), products and sums are done by EJML in double, and the
 * activations are written here from their definitions, independently of the library's own.
 */
public final class Oracle {
    private Oracle() {}

    /** Every element of {@code t}, exactly. */
    public static double[] decode(Tensor t) {
        long n = t.numel();
        double[] out = new double[Math.toIntExact(n)];
        for (int i = 0; i < out.length; i++) {
            out[i] = t.getFloat(i);
        }
        return out;
    }

    /** {@code y = x · wᵀ (+ bias)}: x {@code (m, k)}, w {@code (n, k)}, bias {@code (n,)} or null; y {@code (m, n)}. */
    public static double[] linear(double[] x, int m, int k, double[] w, int n, double[] bias) {
        DMatrixRMaj xm = DMatrixRMaj.wrap(m, k, x);
        DMatrixRMaj wm = DMatrixRMaj.wrap(n, k, w);
        DMatrixRMaj y = new DMatrixRMaj(m, n);
        CommonOps_DDRM.multTransB(xm, wm, y);
        double[] out = y.getData();
        if (bias != null) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    out[i * n + j] += bias[j];
                }
            }
        }
        return out;
    }

    /** The element-wise absolute values: with {@link #linear}, the scale a product's rounding error is bounded by. */
    public static double[] abs(double[] v) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = Math.abs(v[i]);
        }
        return out;
    }

    /** {@code down(act(gate(x)) · up(x))}, each projection with its bias when given. */
    public static double[] mlp(double[] x, int m, int hidden, int ffn, Activation act,
                               double[] gateW, double[] gateB, double[] upW, double[] upB,
                               double[] downW, double[] downB) {
        double[] g = linear(x, m, hidden, gateW, ffn, gateB);
        double[] u = linear(x, m, hidden, upW, ffn, upB);
        double[] h = new double[g.length];
        for (int i = 0; i < h.length; i++) {
            h[i] = activate(act, g[i]) * u[i];
        }
        return linear(h, m, ffn, downW, hidden, downB);
    }

    /** MAX's clip: {@code min(max(w, -c), c)} with c as the weight dtype holds it. */
    public static double[] clip(double[] w, double limit) {
        double[] out = w.clone();
        for (int i = 0; i < out.length; i++) {
            out[i] = Math.min(Math.max(out[i], -limit), limit);
        }
        return out;
    }

    /** The activations from their definitions, in double. */
    public static double activate(Activation a, double x) {
        return switch (a) {
            case SILU -> x / (1 + Math.exp(-x));
            case GELU -> 0.5 * x * Erf.erfc(-x / Math.sqrt(2));
            // 0.5·x·(1 + tanh(u)) written as x·σ(2u), the same function, whose negative tail does not cancel to 0.
            case GELU_TANH -> x / (1 + Math.exp(-2 * Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
            case RELU -> Math.max(x, 0);
            case TANH -> Math.tanh(x);
            case SIGMOID -> 1 / (1 + Math.exp(-x));
            case QUICK_GELU -> x / (1 + Math.exp(-1.702 * x));
        };
    }
}

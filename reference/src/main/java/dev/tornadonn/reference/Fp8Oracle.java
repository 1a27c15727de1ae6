package dev.tornadonn.reference;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.numeric.Float8Format;
import dev.tornadonn.layers.quant.Float8InputScaleSpec;
import dev.tornadonn.layers.quant.Float8WeightScaleSpec;

/**
 * The fp8 linear in exact arithmetic: x is quantised exactly as the spec says (left as it is for
 * weight-only fp8; otherwise scale
 * {@code min(max|x|, ub) / FMAX} in f32, {@code xq = fp8(x · (1/s))} with RNE and saturation, a
 * zero scale giving zeros), then {@code y = Σ (xq·sx)·(wq·sw) + b} in double. Each dequantised
 * factor is a product of two floats, exact in double, so only the double GEMM rounds.
 * The result is the unrounded output; callers round to the output dtype if they compare rounded.
 */
public final class Fp8Oracle {
    private Fp8Oracle() {}

    /**
     * @param x           {@code m × k} inputs
     * @param staticScale the checkpoint's input scale (ignored for dynamic inputs)
     * @param format      the weights' fp8 format ({@link #inputFormat} says which one x takes)
     * @param wq          {@code n × k} decoded fp8 weights
     * @param wScales     the checkpoint's weight scales, row-major in their natural shape
     * @param bias        {@code n} or null
     */
    public static double[] linear(float[] x, int m, int k, Float8Format format, Float8InputScaleSpec input,
                                  float staticScale, double[] wq, int n, Float8WeightScaleSpec weight, float[] wScales,
                                  double[] bias) {
        double[] xd = quantiseInput(x, m, k, inputFormat(format, input), input, staticScale);
        double[] wd = new double[wq.length];
        for (int j = 0; j < n; j++) {
            for (int c = 0; c < k; c++) {
                wd[j * k + c] = wq[j * k + c] * (double) weightScale(weight, wScales, j, c, k);
            }
        }
        return Oracle.linear(xd, m, k, wd, n, bias);
    }

    /**
     * The format x is quantised to: e4m3fn for every dynamic scheme, whatever the weights (vLLM
     * quantises activations to e4m3fn, MAX's dynamic kernels require it); the weight's format
     * for a static scale.
     */
    public static Float8Format inputFormat(Float8Format weightFormat, Float8InputScaleSpec in) {
        return in.isStatic() ? weightFormat : Float8Format.E4M3FN;
    }

    /** {@code xq · sx} per element, in double, x quantised to {@code f}. */
    public static double[] quantiseInput(float[] x, int m, int k, Float8Format f, Float8InputScaleSpec in, float staticScale) {
        double[] out = new double[m * k];
        if (in.isWeightOnly()) { // W8A16: x enters the product as it is
            for (int i = 0; i < out.length; i++) {
                out[i] = x[i];
            }
            return out;
        }
        float tensorAmax = absMax(x, 0, m * k);
        for (int i = 0; i < m; i++) {
            for (int c = 0; c < k; c++) {
                float s;
                if (in.isStatic()) {
                    s = staticScale;
                } else {
                    float amax = switch (in.granularity()) {
                        case TENSOR -> tensorAmax;
                        case COLWISE -> absMax(x, i * k, i * k + k);
                        case BLOCK -> {
                            int bk = in.blockSize().cols();
                            int from = c / bk * bk;
                            yield absMax(x, i * k + from, i * k + Math.min(k, from + bk));
                        }
                        case ROWWISE -> throw new ConfigException("ROWWISE inputs do not exist");
                    };
                    s = Math.min(amax, in.upperBound()) / f.max();
                }
                float inv = s == 0f ? 0f : 1f / s;
                float xq = f.toFloat(f.fromFloat(x[i * k + c] * inv));
                out[i * k + c] = (double) xq * s;
            }
        }
        return out;
    }

    static float weightScale(Float8WeightScaleSpec w, float[] scales, int n, int c, int k) {
        return switch (w.granularity()) {
            case TENSOR -> scales[0];
            case ROWWISE -> scales[n];
            case BLOCK -> {
                int bn = w.blockSize().rows();
                int bk = w.blockSize().cols();
                yield scales[n / bn * ((k + bk - 1) / bk) + c / bk];
            }
            case COLWISE -> throw new ConfigException("COLWISE weight scales do not exist");
        };
    }

    private static float absMax(float[] x, int from, int to) {
        float a = 0f;
        for (int i = from; i < to; i++) {
            a = Math.max(a, Math.abs(x[i]));
        }
        return a;
    }
}

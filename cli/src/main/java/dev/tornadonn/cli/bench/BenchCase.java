package dev.tornadonn.cli.bench;

import dev.tornadonn.core.DeviceRef;

/**
 * One shape and weight format to time: {@code y = layer(x)}, x F32 {@code (m, k)}, y F32
 * {@code (m, n)}. An MLP case has {@code n = k = hidden} and {@code ffn} the intermediate size. A
 * mixed case is a linear one timed in a JVM that has every other mixed case of its shape loaded
 * and running too ({@link MixedRun}).
 */
public record BenchCase(String kind, WeightFormat format, int m, int n, int k, int ffn) {

    public static BenchCase linear(WeightFormat format, int m, int n, int k) {
        return new BenchCase(m == 1 ? "gemv" : "gemm", format, m, n, k, 0);
    }

    public static BenchCase mlp(WeightFormat format, int m, int hidden, int ffn) {
        return new BenchCase("mlp", format, m, hidden, hidden, ffn);
    }

    public static BenchCase mixed(WeightFormat format, int m, int n, int k) {
        return new BenchCase("mixed", format, m, n, k, 0);
    }

    public boolean isMlp() {
        return kind.equals("mlp");
    }

    public boolean isMixed() {
        return kind.equals("mixed");
    }

    /** The same layer timed alone: the linear case a mixed one is compared with. */
    public BenchCase solo() {
        return isMixed() ? linear(format, m, n, k) : this;
    }

    /** Multiply-adds count two: {@code 2·m·n·k}, or the MLP's gate, up and down projections. */
    public double flops() {
        return isMlp() ? 6.0 * m * k * ffn : 2.0 * m * n * k;
    }

    /** Weight elements: {@code n·k}, or {@code 3·hidden·ffn} for the MLP. */
    public long weightElements() {
        return isMlp() ? 3L * k * ffn : (long) n * k;
    }

    /** The bytes of activations read and written once: x and y as F32. */
    public long activationBytes() {
        return 4L * m * (k + n);
    }

    public String shape() {
        return isMlp() ? "M=" + m + " hidden=" + k + " ffn=" + ffn : "M=" + m + " N=" + n + " K=" + k;
    }

    public String label() {
        return kind + " " + format.label();
    }

    /** Builds the layer and its input on {@code device}; the data is random, fixed by the seed. */
    public Prepared prepare(DeviceRef device, WeightData data) {
        return CaseBuilder.build(this, device, data);
    }
}

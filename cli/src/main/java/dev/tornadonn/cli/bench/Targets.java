package dev.tornadonn.cli.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

/** The performance issue's targets, each a ratio measured in this run and a bound it must meet. */
public final class Targets {
    static final int GEMV_N = 32768;
    static final int GEMV_K = 8192;
    static final int MLP_HIDDEN = 4096;
    static final int MLP_FFN = 11008;

    private Targets() {}

    /** A target's verdict: {@code ratio} is NaN when a side is missing ({@code note} says which). */
    public record Verdict(String name, double ratio, double bound, boolean atMost, String note) {
        public boolean measured() {
            return !Double.isNaN(ratio);
        }

        public boolean met() {
            return measured() && (atMost ? ratio <= bound : ratio >= bound);
        }

        public String status() {
            return !measured() ? "SKIP" : met() ? "PASS" : "FAIL";
        }
    }

    public static List<Verdict> evaluate(List<CaseResult> results) {
        List<Verdict> v = new ArrayList<>();
        v.add(vsNumpy(results, "f32 GEMM M=512 N=K=4096: throughput vs numpy x @ w.T", linear(WeightFormat.F32, 512, 4096, 4096), 0.8));
        v.add(vsNumpy(results, "f32 GEMM M=16 N=K=4096: throughput vs numpy x @ w.T", linear(WeightFormat.F32, 16, 4096, 4096), 1.0));
        v.add(vsNumpy(results, "f32 GEMV M=1 N=32768 K=8192: throughput vs numpy", gemv(WeightFormat.F32), 0.9));
        v.add(vsF32Gemv(results, WeightFormat.BF16, 1.7));
        v.add(vsF32Gemv(results, WeightFormat.F16, 1.7));
        v.add(vsF32Gemv(results, WeightFormat.FP8, 3));
        v.add(vsF32Gemv(results, WeightFormat.GPTQ_INT4, 4));
        v.add(mlp(results));
        return v;
    }

    private static Predicate<BenchCase> linear(WeightFormat f, int m, int n, int k) {
        return c -> !c.isMlp() && c.format() == f && c.m() == m && c.n() == n && c.k() == k;
    }

    private static Predicate<BenchCase> gemv(WeightFormat f) {
        return linear(f, 1, GEMV_N, GEMV_K);
    }

    private static Optional<CaseResult> find(List<CaseResult> results, Predicate<BenchCase> p) {
        return results.stream().filter(r -> p.test(r.bench())).findFirst();
    }

    private static Verdict vsNumpy(List<CaseResult> results, String name, Predicate<BenchCase> p, double bound) {
        Optional<CaseResult> r = find(results, p);
        if (r.isEmpty()) {
            return new Verdict(name, Double.NaN, bound, false, "shape not in this suite");
        }
        if (r.get().numpy() == null) {
            return new Verdict(name, Double.NaN, bound, false, "no numpy in this run");
        }
        return new Verdict(name, r.get().vsNumpy(), bound, false, "");
    }

    /** Throughput over the f32 GEMV's at the same shape, both from this run. */
    private static Verdict vsF32Gemv(List<CaseResult> results, WeightFormat f, double bound) {
        String name = f.label() + " GEMV M=1 N=32768 K=8192: throughput vs this project's f32 GEMV";
        Optional<CaseResult> r = find(results, gemv(f));
        Optional<CaseResult> base = find(results, gemv(WeightFormat.F32));
        if (r.isEmpty() || base.isEmpty()) {
            return new Verdict(name, Double.NaN, bound, false, "shape not in this suite");
        }
        return new Verdict(name, base.get().timing().median() / r.get().timing().median(), bound, false, "");
    }

    /**
     * The MLP's time over its three GEMVs' bandwidth-bound time: their weight bytes at the read
     * bandwidth measured by this run's probe.
     */
    private static Verdict mlp(List<CaseResult> results) {
        String name = "bf16 MLP M=1 hidden=4096 ffn=11008 SiLU: time vs its 3 GEMVs' bandwidth-bound time";
        Optional<CaseResult> r = find(results, c -> c.isMlp() && c.format() == WeightFormat.BF16
                && c.m() == 1 && c.k() == MLP_HIDDEN && c.ffn() == MLP_FFN);
        if (r.isEmpty()) {
            return new Verdict(name, Double.NaN, 1.2, true, "shape not in this suite");
        }
        double boundS = r.get().weightBytes() / (r.get().roof().bandwidthGBs() * 1e9);
        return new Verdict(name, r.get().timing().median() / boundS, 1.2, true,
                String.format("bound %.2f ms = %.0f MB at %.1f GB/s", boundS * 1e3, r.get().weightBytes() / 1e6,
                        r.get().roof().bandwidthGBs()));
    }
}

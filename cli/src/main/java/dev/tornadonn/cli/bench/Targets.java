package dev.tornadonn.cli.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * The performance targets (issue #19): each a ratio measured within one round of the run, against
 * numpy/OpenBLAS or another of our cases timed in that round, and a bound it must meet. A ratio is
 * taken per round, so both sides saw the same machine; the verdict is on the median over the
 * rounds, printed with the least and the most.
 */
public final class Targets {
    static final int GEMV_N = 32768;
    static final int GEMV_K = 8192;
    static final int GEMM_M = 512;
    static final int SMALL_M = 16;
    static final int GEMM_NK = 4096;
    /** The small GEMV: 8 weight rows of {@link #GEMV_K}, where preparing x and waking threads show. */
    static final int SMALL_N = 8;
    static final double SMALL_SLOWDOWN = 2.0;
    /** A layer among the others in one JVM may take this much longer than alone. */
    static final double MIXED_SLOWDOWN = 1.10;

    private Targets() {}

    /** One round's ratio of a target, or why it has none. */
    record Ratio(double value, String missing) {
        static Ratio of(double value) {
            return new Ratio(value, "");
        }

        static Ratio none(String why) {
            return new Ratio(Double.NaN, why);
        }

        boolean measured() {
            return !Double.isNaN(value);
        }
    }

    /** A target: its name, the bound (at least, or with {@code atMost} at most) and its ratio in one round's results. */
    record Target(String name, double bound, boolean atMost, Function<List<CaseResult>, Ratio> ratio) {}

    /**
     * A target's verdict: the median of its per-round ratios and their least and most ({@code NaN}
     * when no round measured it; {@code note} says why), over {@code rounds} rounds that measured it.
     */
    public record Verdict(String name, double bound, boolean atMost, double median, double min, double max, int rounds,
                          String note) {
        public boolean measured() {
            return !Double.isNaN(median);
        }

        public boolean met() {
            return measured() && (atMost ? median <= bound : median >= bound);
        }

        public String status() {
            return !measured() ? "SKIP" : met() ? "PASS" : "FAIL";
        }
    }

    /** Every target, in the order printed. */
    static List<Target> all() {
        List<Target> t = new ArrayList<>();
        t.add(gemvVsNumpy(WeightFormat.F32, 0.95));
        t.add(gemvVsNumpy(WeightFormat.BF16, 0.9));
        t.add(gemvVsNumpy(WeightFormat.F16, 0.9));
        t.add(gemvVsNumpy(WeightFormat.FP8, 0.85));
        t.add(gemvVsNumpy(WeightFormat.GPTQ_INT4, 0.8));
        t.add(gemmVsNumpy(GEMM_M, 0.9));
        t.add(gemmVsNumpy(SMALL_M, 1.7));
        t.add(gemmVsOurF32(WeightFormat.GPTQ_INT4));
        t.add(gemmVsOurF32(WeightFormat.FP8));
        t.add(smallGemvVsOurF32(WeightFormat.FP8));
        t.add(smallGemvVsOurF32(WeightFormat.GPTQ_INT4));
        for (WeightFormat f : WeightFormat.values()) {
            t.add(mixedVsSolo(f));
        }
        return List.copyOf(t);
    }

    /** The verdict on every target over the rounds' results (each round's cases with that round's numpy). */
    public static List<Verdict> evaluate(List<List<CaseResult>> rounds) {
        return all().stream().map(t -> verdict(t, rounds)).toList();
    }

    static Verdict verdict(Target t, List<List<CaseResult>> rounds) {
        List<Ratio> ratios = rounds.stream().map(t.ratio()).toList();
        double[] measured = ratios.stream().filter(Ratio::measured).mapToDouble(Ratio::value).sorted().toArray();
        if (measured.length == 0) {
            String why = ratios.isEmpty() ? "no rounds" : ratios.getFirst().missing();
            return new Verdict(t.name(), t.bound(), t.atMost(), Double.NaN, Double.NaN, Double.NaN, 0, why);
        }
        String note = measured.length < ratios.size()
                ? "measured in " + measured.length + " of " + ratios.size() + " rounds" : "";
        return new Verdict(t.name(), t.bound(), t.atMost(), median(measured), measured[0], measured[measured.length - 1],
                measured.length, note);
    }

    private static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /**
     * The GEMV's rate of weight bytes read over numpy's f32 GEMV's at the same shape: our weight
     * bytes per second (codes, scales and zero points as the kernel streams them) over numpy's
     * {@code 4·n·k} bytes per second. For f32 that is numpy's time over ours.
     */
    private static Target gemvVsNumpy(WeightFormat f, double bound) {
        String name = f.label() + " GEMV M=1 N=" + GEMV_N + " K=" + GEMV_K + ": weight bytes/s vs numpy's f32 GEMV";
        return new Target(name, bound, false, results -> {
            Optional<CaseResult> r = find(results, linear(f, 1, GEMV_N, GEMV_K));
            if (r.isEmpty()) {
                return Ratio.none("not run in this suite or on this device");
            }
            Timing numpy = r.get().numpy();
            if (numpy == null) {
                return Ratio.none("no numpy in this run");
            }
            double ours = r.get().weightBytes() / r.get().timing().median();
            double theirs = 4.0 * GEMV_N * GEMV_K / numpy.median();
            return Ratio.of(ours / theirs);
        });
    }

    /** The f32 GEMM's speed over numpy's: numpy's time over ours. */
    private static Target gemmVsNumpy(int m, double bound) {
        String name = "f32 GEMM M=" + m + " N=K=" + GEMM_NK + ": speed vs numpy x @ w.T";
        return new Target(name, bound, false, results -> {
            Optional<CaseResult> r = find(results, linear(WeightFormat.F32, m, GEMM_NK, GEMM_NK));
            if (r.isEmpty()) {
                return Ratio.none("not run in this suite or on this device");
            }
            return r.get().numpy() == null ? Ratio.none("no numpy in this run") : Ratio.of(r.get().vsNumpy());
        });
    }

    /** A quantised GEMM (prompt processing) against our own f32 GEMM at the same shape: the f32 time over its. */
    private static Target gemmVsOurF32(WeightFormat f) {
        String name = f.label() + " GEMM M=" + GEMM_M + " N=K=" + GEMM_NK + ": speed vs this project's f32 GEMM";
        return new Target(name, 1.0, false, results -> {
            Optional<CaseResult> r = find(results, linear(f, GEMM_M, GEMM_NK, GEMM_NK));
            Optional<CaseResult> f32 = find(results, linear(WeightFormat.F32, GEMM_M, GEMM_NK, GEMM_NK));
            if (r.isEmpty() || f32.isEmpty()) {
                return Ratio.none("not run in this suite or on this device");
            }
            return Ratio.of(f32.get().timing().median() / r.get().timing().median());
        });
    }

    /** A quantised GEMV of {@link #SMALL_N} rows against our f32 one at the same shape: its time over the f32 time. */
    private static Target smallGemvVsOurF32(WeightFormat f) {
        String name = f.label() + " GEMV M=1 N=" + SMALL_N + " K=" + GEMV_K + ": time vs this project's f32 GEMV";
        return new Target(name, SMALL_SLOWDOWN, true, results -> {
            Optional<CaseResult> r = find(results, linear(f, 1, SMALL_N, GEMV_K));
            Optional<CaseResult> f32 = find(results, linear(WeightFormat.F32, 1, SMALL_N, GEMV_K));
            if (r.isEmpty() || f32.isEmpty()) {
                return Ratio.none("not run in this suite or on this device");
            }
            return Ratio.of(r.get().timing().median() / f32.get().timing().median());
        });
    }

    /** A format's GEMV timed in a JVM with every format's GEMV loaded and run, over its time alone. */
    private static Target mixedVsSolo(WeightFormat f) {
        String name = f.label() + " GEMV among all five formats in one JVM: time vs alone";
        return new Target(name, MIXED_SLOWDOWN, true, results -> {
            Predicate<BenchCase> mixed = c -> c.isMixed() && c.format() == f && c.m() == 1 && c.n() == GEMV_N && c.k() == GEMV_K;
            Optional<CaseResult> r = find(results, mixed);
            Optional<CaseResult> solo = find(results, linear(f, 1, GEMV_N, GEMV_K));
            if (r.isEmpty() || solo.isEmpty()) {
                return Ratio.none("needs each case in a JVM of its own and the mixed run (cpu devices, not --in-process)");
            }
            return Ratio.of(r.get().timing().median() / solo.get().timing().median());
        });
    }

    private static Predicate<BenchCase> linear(WeightFormat f, int m, int n, int k) {
        return c -> !c.isMlp() && !c.isMixed() && c.format() == f && c.m() == m && c.n() == n && c.k() == k;
    }

    private static Optional<CaseResult> find(List<CaseResult> results, Predicate<BenchCase> p) {
        return results.stream().filter(r -> p.test(r.bench())).findFirst();
    }
}

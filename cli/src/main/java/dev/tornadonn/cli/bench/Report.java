package dev.tornadonn.cli.bench;

import java.io.PrintWriter;
import java.util.List;
import java.util.OptionalLong;

/** The text bench prints: the machine's limits, one row per case, then the targets. */
final class Report {
    private static final String ROW = "%-20s %-30s %9s %17s %9s %8s %8s %10s %9s %17s  %s%n";

    private Report() {}

    static void print(PrintWriter out, MachineProbe.Roofline roof, Numpy.Result np, boolean noNumpy, List<CaseResult> results) {
        out.println(machine(roof, MachineProbe.lastLevelCacheBytes()));
        if (noNumpy) {
            out.println("numpy: skipped (--no-numpy)");
        } else if (np.available()) {
            out.println("numpy: " + np.config());
            out.println("       every format is compared with numpy's f32 x @ w.T at the same shape (numpy has no bf16, fp8 or int4 GEMM)");
        } else {
            out.println("numpy: not available: " + np.unavailable() + (np.config() == null ? "" : " (" + np.config() + ")"));
        }
        out.printf(ROW, "case", "shape", "ms", "min-max ms", "GFLOP/s", "GB/s", "flop/B", "roofline", "numpy ms",
                "numpy min-max", "vs numpy");
        for (CaseResult r : results) {
            Timing t = r.timing();
            Timing n = r.numpy();
            out.printf(ROW, r.bench().label(), r.bench().shape(), ms(t.median()), ms(t.min()) + "-" + ms(t.max()),
                    num(r.gflops()), num(r.gbs()), num(r.intensity()),
                    String.format("%.0f%% %s", 100 * r.rooflineFraction(), r.memoryBound() ? "mem" : "fma"),
                    n == null ? "-" : ms(n.median()), n == null ? "-" : ms(n.min()) + "-" + ms(n.max()),
                    n == null ? "-" : String.format("%.2fx (mins %.2fx, spread %.0f%%)%s", r.vsNumpy(), r.vsNumpyOfMins(),
                            100 * r.vsNumpySpread(), r.unstable() ? " unstable" : ""));
        }
        out.println("ms: median (min-max) of the timed runs; GB/s: weights + x + y once per call; roofline: GFLOP/s over"
                + " min(peak FMA, flop/B × bandwidth), 'mem' below the ridge, 'fma' above; vs numpy: numpy's time over ours"
                + " (> 1 is faster), of the medians, then of the fastest runs; spread: each side's (median - min) / median,"
                + " added; numpy's runs are batches of calls lasting at least 50 ms, per call");
        if (results.stream().anyMatch(r -> r.bench().isMixed())) {
            out.println("mixed: those layers loaded together into one JVM and run in turn until compiled, then each timed as"
                    + " alone; compare each with its gemv row");
        }
        for (CaseResult r : results) {
            if (readsAboveRoof(r)) {
                out.printf("note: %s %s reads at %.0f%% of the measured bandwidth: its weights came partly from a cache,"
                        + " or the probe under-read this machine%n", r.bench().label(), r.bench().shape(), 100 * r.rooflineFraction());
            }
        }
        long unstable = results.stream().filter(CaseResult::unstable).count();
        if (unstable > 0) {
            out.printf("unstable: %d comparison%s with a spread above %.0f%%: the typical run of one side or the other was"
                    + " well above its fastest (a busy machine?), so the ratio of the medians is not to be trusted%n",
                    unstable, unstable == 1 ? "" : "s", 100 * CaseResult.UNSTABLE_SPREAD);
        }
        for (CaseResult r : results) {
            if (boxed(r)) {
                out.printf("note: %s %s allocated %.0f MB per call: the JIT left its vectors boxed, so this is not the"
                        + " kernel's time (see docs/PERFORMANCE.md, 'Boxed vectors')%n",
                        r.bench().label(), r.bench().shape(), r.timing().bytesPerRun() / 1e6);
            }
        }
    }

    /**
     * A kernel allocates little besides its output: more than 16 times its activations and a MiB
     * per call means vectors boxed on the heap.
     */
    static boolean boxed(CaseResult r) {
        return r.timing().bytesPerRun() > 16 * r.bench().activationBytes() + (1 << 20);
    }

    /**
     * A large memory-bound case above this fraction of the roof gets a note: beyond the runs'
     * noise, it read faster than the machine's measured bandwidth.
     */
    static final double ABOVE_ROOF = 1.05;

    /**
     * A memory-bound case with weights of at least half the probe's array, which is far beyond the
     * caches, reading faster than the probe did. Smaller weights may come from a cache, as they
     * would in a model.
     */
    static boolean readsAboveRoof(CaseResult r) {
        return r.memoryBound() && 2 * r.weightBytes() >= r.roof().probe().bytesRead() && r.rooflineFraction() > ABOVE_ROOF;
    }

    /** The machine line: the FMA peak, the read bandwidth and how the probe read it, and the ridge point. */
    static String machine(MachineProbe.Roofline roof, OptionalLong lastLevelCache) {
        ReadProbe p = roof.probe();
        String cache = "";
        if (lastLevelCache.isPresent()) {
            double times = (double) p.bytesRead() / lastLevelCache.getAsLong();
            cache = String.format(", %.0f× the %d MiB last-level cache%s", times, lastLevelCache.getAsLong() >> 20,
                    times < 4 ? ": too small, give a larger --probe-mib" : "");
        }
        return String.format("machine: peak f32 FMA %.1f GFLOP/s (%d threads, %d-lane vectors), read bandwidth %.1f GB/s"
                        + " (%d threads, each reading %d rows of %d KiB side by side, as the GEMVs read weights; %d MiB off-heap%s),"
                        + " ridge %.1f flop/B",
                roof.peakGflops(), roof.threads(), roof.lanes(), roof.bandwidthGBs(), p.threads(), ReadProbe.STREAMS,
                p.rowBytes() >> 10, p.bytesRead() >> 20, cache, roof.ridge());
    }

    /**
     * The verdicts: each target's median ratio over the rounds with the bound it must meet, the
     * least and most of the rounds' ratios, and a note where a round could not measure it.
     */
    static void printTargets(PrintWriter out, List<Targets.Verdict> verdicts, int rounds) {
        if (verdicts.isEmpty()) {
            return;
        }
        out.println();
        out.println(rounds == 1 ? "targets (each ratio from cases timed in this run):"
                : "targets (each ratio taken within a round, both sides timed in it; the median over the rounds, and their least and most):");
        int width = verdicts.stream().mapToInt(v -> v.name().length()).max().orElse(0);
        for (Targets.Verdict v : verdicts) {
            String ratio = v.measured() ? String.format("%.2fx", v.median()) : "n/a";
            String spread = v.rounds() < 2 ? "" : String.format("  min-max %.2f-%.2f over %d rounds", v.min(), v.max(), v.rounds());
            out.printf("  %s  %-" + width + "s %7s  (%s %.2fx)%s%s%n", v.status(), v.name(), ratio, v.atMost() ? "<=" : ">=",
                    v.bound(), spread, v.note().isEmpty() ? "" : "  " + v.note());
        }
        long met = verdicts.stream().filter(Targets.Verdict::met).count();
        long measured = verdicts.stream().filter(Targets.Verdict::measured).count();
        out.printf("%d of %d targets met (%d measured)%n", met, verdicts.size(), measured);
    }

    private static String ms(double seconds) {
        return num(seconds * 1e3);
    }

    /** Three significant digits or so, without scientific notation for the sizes seen here. */
    private static String num(double v) {
        return v >= 100 ? String.format("%.0f", v) : v >= 10 ? String.format("%.1f", v) : v >= 1 ? String.format("%.2f", v) : String.format("%.3f", v);
    }
}

package dev.tornadonn.cli.bench;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.List;

/**
 * The median and spread of a case's timed runs, in seconds, and the heap it allocated per run
 * (all threads; -1 where not measured).
 */
public record Timing(double median, double min, double max, int runs, long bytesPerRun) {

    /** The JIT must have compiled nothing new for this long before timing starts. */
    private static final double JIT_QUIET_S = 0.5;
    /** Warm-up gives up waiting for a quiet JIT after this long (a JVM without the bean never waits). */
    private static final double WARM_UP_CAP_S = 15.0;

    /**
     * Warms {@code op} up ({@link #warmUp}), then times up to {@code repeat} calls, stopping early
     * once {@code budgetS} is spent but never with fewer than three.
     */
    public static Timing measure(Runnable op, int repeat, double budgetS) {
        warmUp(op, budgetS);
        double[] t = new double[repeat];
        long allocatedBefore = allocatedBytes();
        long measureStart = System.nanoTime();
        int n = 0;
        while (n < repeat && (n < 3 || elapsed(measureStart) < budgetS)) {
            long t0 = System.nanoTime();
            op.run();
            t[n++] = (System.nanoTime() - t0) / 1e9;
        }
        long allocatedAfter = allocatedBytes();
        long perRun = allocatedBefore < 0 || allocatedAfter < 0 ? -1 : Math.max(0, allocatedAfter - allocatedBefore) / n;
        return of(Arrays.copyOf(t, n), perRun);
    }

    /**
     * Calls {@code op} until the JIT has been quiet for {@value #JIT_QUIET_S} s (at least two
     * calls and {@code min(1 s, budget)}, at most {@value #WARM_UP_CAP_S} s): the Vector API
     * kernels are large methods that C2 compiles, OSR-compiles and recompiles for seconds, and a
     * fixed short warm-up timed them half-compiled.
     */
    static void warmUp(Runnable op, double budgetS) {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        boolean canWait = jit != null && jit.isCompilationTimeMonitoringSupported();
        long start = System.nanoTime();
        long lastJit = canWait ? jit.getTotalCompilationTime() : 0;
        long quietSince = start;
        for (int i = 0; ; i++) {
            op.run();
            long now = System.nanoTime();
            if (canWait) {
                long jitMs = jit.getTotalCompilationTime();
                if (jitMs != lastJit) {
                    lastJit = jitMs;
                    quietSince = now;
                }
            }
            boolean minimumDone = i >= 1 && elapsed(start) >= Math.min(1.0, budgetS);
            boolean quiet = !canWait || (now - quietSince) / 1e9 >= JIT_QUIET_S;
            if (minimumDone && (quiet || elapsed(start) >= WARM_UP_CAP_S)) {
                return;
            }
        }
    }

    /**
     * One case timed in several rounds: the median of the rounds' medians (one slow or fast round
     * does not move it), the extremes of all runs, and the largest allocation any round saw.
     */
    static Timing acrossRounds(List<Timing> rounds) {
        if (rounds.size() == 1) {
            return rounds.getFirst();
        }
        double[] medians = rounds.stream().mapToDouble(Timing::median).toArray();
        Timing m = of(medians);
        double min = rounds.stream().mapToDouble(Timing::min).min().orElseThrow();
        double max = rounds.stream().mapToDouble(Timing::max).max().orElseThrow();
        int runs = rounds.stream().mapToInt(Timing::runs).sum();
        long bytes = rounds.stream().mapToLong(Timing::bytesPerRun).max().orElseThrow();
        return new Timing(m.median(), min, max, runs, bytes);
    }

    /**
     * (median - min) / median: how far the typical run is above the fastest. Noise (a neighbour's
     * burst, a preempted thread, a collection) only ever slows a run, so a median well above the
     * minimum means the runs were disturbed, while one slow outlier, which moves only the maximum,
     * does not count.
     */
    public double spread() {
        return median > 0 ? (median - min) / median : Double.NaN;
    }

    static Timing of(double[] seconds) {
        return of(seconds, -1);
    }

    static Timing of(double[] seconds, long bytesPerRun) {
        double[] s = seconds.clone();
        Arrays.sort(s);
        int n = s.length;
        double median = n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
        return new Timing(median, s[0], s[n - 1], n, bytesPerRun);
    }

    /**
     * Heap allocated so far by every live thread (the kernels' pool included), or -1. A kernel
     * allocates next to nothing per call; gigabytes mean the JIT left its vectors boxed.
     */
    private static long allocatedBytes() {
        if (ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean threads
                && threads.isThreadAllocatedMemorySupported() && threads.isThreadAllocatedMemoryEnabled()) {
            return threads.getTotalThreadAllocatedBytes();
        }
        return -1;
    }

    private static double elapsed(long since) {
        return (System.nanoTime() - since) / 1e9;
    }
}

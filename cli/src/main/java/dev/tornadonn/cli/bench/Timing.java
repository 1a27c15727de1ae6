package dev.tornadonn.cli.bench;

import java.util.Arrays;

/** The median and spread of a case's timed runs, in seconds. */
public record Timing(double median, double min, double max, int runs) {

    /**
     * Warms {@code op} up (at least two calls and {@code min(1 s, budget)}, so the JIT has
     * compiled it), then times up to {@code repeat} calls, stopping early once {@code budgetS}
     * is spent but never with fewer than three.
     */
    public static Timing measure(Runnable op, int repeat, double budgetS) {
        long start = System.nanoTime();
        for (int i = 0; i < 2 || (elapsed(start) < Math.min(1.0, budgetS) && i < 100_000); i++) {
            op.run();
        }
        double[] t = new double[repeat];
        long measureStart = System.nanoTime();
        int n = 0;
        while (n < repeat && (n < 3 || elapsed(measureStart) < budgetS)) {
            long t0 = System.nanoTime();
            op.run();
            t[n++] = (System.nanoTime() - t0) / 1e9;
        }
        return of(Arrays.copyOf(t, n));
    }

    static Timing of(double[] seconds) {
        double[] s = seconds.clone();
        Arrays.sort(s);
        int n = s.length;
        double median = n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
        return new Timing(median, s[0], s[n - 1], n);
    }

    private static double elapsed(long since) {
        return (System.nanoTime() - since) / 1e9;
    }
}

package dev.tornadonn.jvm;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.RecursiveAction;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * One pool of daemon workers shared by every cpu device's kernels: one per core, or as many as
 * the system property {@value #PROPERTY} says.
 */
final class Parallel {
    /** The number of kernel threads, e.g. {@code -Dtornadonn.jvm.threads=8}; default: every core. */
    static final String PROPERTY = "tornadonn.jvm.threads";
    static final int THREADS = threads();
    // A count of its own: the pool index is not assigned yet when the factory runs, so every worker was "-0".
    private static final AtomicInteger WORKERS = new AtomicInteger();
    private static final ForkJoinPool POOL = new ForkJoinPool(THREADS, pool -> {
        ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
        t.setName("tornado-nn-jvm-" + WORKERS.getAndIncrement());
        t.setDaemon(true);
        return t;
    }, null, false);

    private Parallel() {}

    private static int threads() {
        String v = System.getProperty(PROPERTY);
        if (v == null || v.isBlank()) {
            return Runtime.getRuntime().availableProcessors();
        }
        try {
            int n = Integer.parseInt(v.trim());
            if (n >= 1) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below: a static initialiser's exception would surface as an ExceptionInInitializerError
        }
        int cores = Runtime.getRuntime().availableProcessors();
        System.getLogger(Parallel.class.getName()).log(System.Logger.Level.WARNING, "tornado-nn: " + PROPERTY
                + " must be a whole number of threads >= 1, not '" + v + "'; using " + cores);
        return cores;
    }

    /** Runs {@code body} for every task index in {@code [0, tasks)}, spread over the pool. */
    static void forEach(int tasks, IntConsumer body) {
        if (tasks <= 1 || THREADS == 1) {
            for (int i = 0; i < tasks; i++) {
                body.accept(i);
            }
            return;
        }
        POOL.invoke(new Range(0, tasks, body));
    }

    /** The work on rows {@code [from, to)} of one task. */
    interface RowRange {
        void run(int from, int to);
    }

    /** Rows {@code [0, n)} in about {@code THREADS × 16} contiguous ranges, spread over the pool. */
    static void forRows(int n, RowRange body) {
        forRows(n, 1, body);
    }

    /**
     * Rows {@code [0, n)} in about {@code THREADS × 16} contiguous ranges that start at multiples
     * of {@code block}, so that only the last range ends with fewer than {@code block} rows: a
     * kernel that walks {@code block} rows side by side does each row of a short block in a pass
     * of its own, and ranges cut anywhere left one in nearly every range (N = 4096 on three cores,
     * 48 ranges of 85 or 86 rows: ten passes of eight rows and five or six of one each).
     */
    static void forRows(int n, int block, RowRange body) {
        int blocks = (n + block - 1) / block;
        int tasks = Math.min(blocks, THREADS * 16);
        forEach(tasks, t -> body.run(rangeStart(n, block, blocks, tasks, t), rangeStart(n, block, blocks, tasks, t + 1)));
    }

    /** Where range t of {@code tasks} starts: a multiple of {@code block}, or n for t = tasks. */
    static int rangeStart(int n, int block, int blocks, int tasks, int t) {
        return (int) Math.min(n, (long) blocks * t / tasks * block);
    }

    private static final class Range extends RecursiveAction {
        private static final long serialVersionUID = 1L;
        private final int from;
        private final int to;
        private final transient IntConsumer body;

        Range(int from, int to, IntConsumer body) {
            this.from = from;
            this.to = to;
            this.body = body;
        }

        @Override
        protected void compute() {
            if (to - from == 1) {
                body.accept(from);
                return;
            }
            int mid = (from + to) >>> 1;
            invokeAll(new Range(from, mid, body), new Range(mid, to, body));
        }
    }
}

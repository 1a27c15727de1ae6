package dev.tornadonn.jvm;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.RecursiveAction;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/** One pool of daemon workers, one per core, shared by every cpu device's kernels. */
final class Parallel {
    static final int THREADS = Runtime.getRuntime().availableProcessors();
    // A count of its own: the pool index is not assigned yet when the factory runs, so every worker was "-0".
    private static final AtomicInteger WORKERS = new AtomicInteger();
    private static final ForkJoinPool POOL = new ForkJoinPool(THREADS, pool -> {
        ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
        t.setName("tornado-nn-jvm-" + WORKERS.getAndIncrement());
        t.setDaemon(true);
        return t;
    }, null, false);

    private Parallel() {}

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
        int tasks = Math.min(n, THREADS * 16);
        forEach(tasks, t -> body.run((int) ((long) n * t / tasks), (int) ((long) n * (t + 1) / tasks)));
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

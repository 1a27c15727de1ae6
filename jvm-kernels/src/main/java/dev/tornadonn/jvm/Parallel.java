package dev.tornadonn.jvm;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * One set of daemon workers shared by every cpu device's kernels: {@value #PROPERTY} threads run a
 * call's tasks, the calling thread and {@code THREADS − 1} workers.
 *
 * <p>A call allocates nothing on the heap: each calling thread reuses one {@link Job} (a fork/join
 * pool allocates its task objects and, when a join blocks, a wait node per call), the tasks are
 * claimed from a counter, and threads wait by spinning briefly, then parking. Callers pass a body
 * object they reuse too (a capturing lambda is a new object per call). Several threads may call at
 * once: each posts its job on a board that the workers scan, and runs its own tasks as well, so a
 * job finishes even when every worker is busy with another's. Parked workers are woken as a tree:
 * the caller wakes two, and each worker that finds work wakes two more, so that many cores start
 * in a few wake-up latencies rather than one system call after another on the caller.
 */
final class Parallel {
    /** The number of kernel threads, e.g. {@code -Dtornadonn.jvm.threads=8}; default: every core. */
    static final String PROPERTY = "tornadonn.jvm.threads";
    static final int THREADS = threads();
    /** Jobs posted at once; a caller that finds the board full runs its tasks alone. */
    private static final int SLOTS = 32;
    /** Scans of an empty board (a few microseconds) before a worker parks: the next call often comes sooner. */
    private static final int SPINS = 256;
    private static final AtomicReferenceArray<Job> BOARD = new AtomicReferenceArray<>(SLOTS);
    private static final Worker[] WORKERS = startWorkers();
    private static final ThreadLocal<Job> JOBS = ThreadLocal.withInitial(Job::new);

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

    private static Worker[] startWorkers() {
        Worker[] w = new Worker[THREADS - 1];
        for (int i = 0; i < w.length; i++) {
            w[i] = new Worker(i);
            w[i].start();
        }
        return w;
    }

    /** Runs {@code body} for every task index in {@code [0, tasks)}, spread over the threads. */
    static void forEach(int tasks, IntConsumer body) {
        if (tasks <= 1 || THREADS == 1) {
            for (int i = 0; i < tasks; i++) {
                body.accept(i);
            }
            return;
        }
        run(tasks, body, null, 0, 0, 0);
    }

    /** The work on rows {@code [from, to)} of one task. */
    interface RowRange {
        void run(int from, int to);
    }

    /** Rows {@code [0, n)} in about {@code THREADS × 16} contiguous ranges, spread over the threads. */
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
        if (tasks <= 1 || THREADS == 1) {
            for (int t = 0; t < tasks; t++) {
                body.run(rangeStart(n, block, blocks, tasks, t), rangeStart(n, block, blocks, tasks, t + 1));
            }
            return;
        }
        run(tasks, null, body, n, block, blocks);
    }

    /** Unparks up to {@code count} idle workers, each claimed by clearing its flag so that no two callers wake the same one. */
    private static void wake(int count) {
        for (int i = 0; i < WORKERS.length && count > 0; i++) {
            Worker w = WORKERS[i];
            if (w.idle.get() && w.idle.compareAndSet(true, false)) {
                LockSupport.unpark(w);
                count--;
            }
        }
    }

    /** Where range t of {@code tasks} starts: a multiple of {@code block}, or n for t = tasks. */
    static int rangeStart(int n, int block, int blocks, int tasks, int t) {
        return (int) Math.min(n, (long) blocks * t / tasks * block);
    }

    /** The calling thread's job: posted, shared with the workers, waited for, taken down. */
    private static void run(int tasks, IntConsumer each, RowRange rows, int n, int block, int blocks) {
        Job job = JOBS.get();
        if (job.running) { // a task that itself calls in: its tasks run here, one after the other
            Job.runInline(tasks, each, rows, n, block, blocks);
            return;
        }
        job.running = true;
        int slot = -1;
        try {
            job.open(tasks, each, rows, n, block, blocks);
            for (int s = 0; s < SLOTS && slot < 0; s++) {
                if (BOARD.get(s) == null && BOARD.compareAndSet(s, null, job)) {
                    slot = s;
                }
            }
            if (slot >= 0) {
                wake(2);
            }
            job.work();
            job.awaitDone();
        } finally {
            if (slot >= 0) {
                BOARD.set(slot, null);
            }
            job.running = false;
        }
        job.close();
    }

    /**
     * One call's tasks. Its owner fills in the body, then opens the claim counter; any thread
     * that claims a task index reads the body after the claim, so it sees what the owner wrote.
     * The counter holds the task count and the next index together: a worker still holding a
     * finished job finds nothing left to claim, never an index of the next call with the last
     * call's count.
     */
    private static final class Job {
        private final Thread owner = Thread.currentThread();
        /** {@code (tasks << 32) | next index}. */
        private final AtomicLong claims = new AtomicLong();
        private final AtomicInteger done = new AtomicInteger();
        private volatile Throwable failure;
        /** Owner only: whether a call of the owner's is under way. */
        private boolean running;
        private int tasks;
        private IntConsumer each;
        private RowRange rows;
        private int n;
        private int block;
        private int blocks;

        void open(int tasks, IntConsumer each, RowRange rows, int n, int block, int blocks) {
            this.tasks = tasks;
            this.each = each;
            this.rows = rows;
            this.n = n;
            this.block = block;
            this.blocks = blocks;
            failure = null;
            done.set(0);
            claims.set((long) tasks << 32); // last: publishes the fields above to whoever claims
        }

        boolean hasWork() {
            long c = claims.get();
            return (int) c < (int) (c >>> 32);
        }

        /** The next unclaimed task index, or −1. */
        private int claim() {
            while (true) {
                long c = claims.get();
                int next = (int) c;
                if (next >= (int) (c >>> 32)) {
                    return -1;
                }
                if (claims.compareAndSet(c, c + 1)) {
                    return next;
                }
            }
        }

        /** Runs tasks until none is left to claim. */
        void work() {
            for (int t = claim(); t >= 0; t = claim()) {
                try {
                    if (rows != null) {
                        rows.run(rangeStart(n, block, blocks, tasks, t), rangeStart(n, block, blocks, tasks, t + 1));
                    } else {
                        each.accept(t);
                    }
                } catch (Throwable e) {
                    if (failure == null) {
                        failure = e;
                    }
                }
                if (done.incrementAndGet() == tasks) {
                    LockSupport.unpark(owner);
                }
            }
        }

        /** Owner: waits for the tasks others claimed, spinning a little before it parks. */
        void awaitDone() {
            for (int spins = 0; done.get() < tasks; spins++) {
                if (spins < SPINS) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
            }
        }

        /** Owner: drops the body (it may reference a weight that should be freeable) and rethrows a task's failure. */
        void close() {
            each = null;
            rows = null;
            Throwable f = failure;
            if (f != null) {
                failure = null;
                switch (f) {
                    case RuntimeException e -> throw e;
                    case Error e -> throw e;
                    default -> throw new IllegalStateException("a kernel task failed", f);
                }
            }
        }

        static void runInline(int tasks, IntConsumer each, RowRange rows, int n, int block, int blocks) {
            for (int t = 0; t < tasks; t++) {
                if (rows != null) {
                    rows.run(rangeStart(n, block, blocks, tasks, t), rangeStart(n, block, blocks, tasks, t + 1));
                } else {
                    each.accept(t);
                }
            }
        }
    }

    /** A kernel thread: runs any posted job's tasks, and holds its own {@link Scratch}. */
    static final class Worker extends Thread {
        final Scratch scratch = new Scratch();
        /** Set before parking, cleared by whoever wakes it: a caller that posts a job unparks only idle workers. */
        final java.util.concurrent.atomic.AtomicBoolean idle = new java.util.concurrent.atomic.AtomicBoolean();

        Worker(int index) {
            super("tornado-nn-jvm-" + index);
            setDaemon(true);
        }

        @Override
        public void run() {
            int spins = 0;
            while (true) {
                Job job = posted();
                if (job != null) {
                    wake(2); // work is left: the next two idle workers may help
                    job.work();
                    spins = 0;
                } else if (spins < SPINS) {
                    spins++;
                    Thread.onSpinWait();
                } else {
                    // Idle, then look once more: a job posted before the flag was seen is found
                    // here, one posted after it comes with an unpark.
                    idle.set(true);
                    if (posted() == null) {
                        LockSupport.park(this);
                        Thread.interrupted(); // nobody should interrupt a worker; if someone does, park again next time
                    }
                    idle.set(false);
                    spins = 0;
                }
            }
        }

        private static Job posted() {
            for (int s = 0; s < SLOTS; s++) {
                Job job = BOARD.get(s);
                if (job != null && job.hasWork()) {
                    return job;
                }
            }
            return null;
        }
    }
}

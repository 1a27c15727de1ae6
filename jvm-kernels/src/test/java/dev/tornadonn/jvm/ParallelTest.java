package dev.tornadonn.jvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ParallelTest {

    /** Every split of n rows into ranges for a kernel of {@code block} rows, for 1 to 200 tasks. */
    @ParameterizedTest(name = "n={0} block={1}")
    @CsvSource({"1, 8", "7, 8", "8, 8", "9, 8", "64, 8", "129, 8", "4096, 8", "4097, 8", "32768, 8", "151936, 8",
            "1, 4", "7, 4", "130, 4", "4097, 4", "11008, 4", "5, 1", "4097, 1"})
    void rangesStartOnBlocksCoverEveryRowOnceAndOnlyTheLastIsShort(int n, int block) {
        int blocks = (n + block - 1) / block;
        for (int tasks = 1; tasks <= Math.min(blocks, 200); tasks++) {
            int previous = 0;
            for (int t = 0; t < tasks; t++) {
                int from = Parallel.rangeStart(n, block, blocks, tasks, t);
                int to = Parallel.rangeStart(n, block, blocks, tasks, t + 1);
                String where = "n=" + n + " block=" + block + " tasks=" + tasks + " range " + t + " [" + from + ", " + to + ")";
                assertEquals(previous, from, where + " does not start where the one before ended");
                assertEquals(0, from % block, where + " does not start on a block");
                assertTrue(to > from, where + " is empty");
                if (t < tasks - 1) {
                    assertEquals(0, (to - from) % block, where + " ends with a short block but is not the last");
                }
                previous = to;
            }
            assertEquals(n, previous, "n=" + n + " block=" + block + " tasks=" + tasks + ": rows left out");
        }
    }

    @Test
    void forRowsRunsEachRangeOnceOverThePool() {
        List<int[]> ranges = new ArrayList<>();
        Parallel.forRows(4097, 8, (from, to) -> {
            synchronized (ranges) {
                ranges.add(new int[] {from, to});
            }
        });
        ranges.sort(Comparator.comparingInt(r -> r[0]));
        int previous = 0;
        for (int[] r : ranges) {
            assertEquals(previous, r[0]);
            assertEquals(0, r[0] % 8);
            previous = r[1];
        }
        assertEquals(4097, previous);
        assertEquals(Math.min(513, Parallel.THREADS * 16), ranges.size());
    }

    /** A task's exception reaches the caller as it was thrown, after every task has finished, and the threads serve the next call. */
    @Test
    void aFailingTaskFailsTheCallAndLeavesThePoolWorking() {
        java.util.concurrent.atomic.AtomicInteger ran = new java.util.concurrent.atomic.AtomicInteger();
        IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> Parallel.forEach(100, t -> {
                    ran.incrementAndGet();
                    if (t == 37) {
                        throw new IllegalStateException("task 37");
                    }
                }));
        assertEquals("task 37", e.getMessage());
        assertEquals(100, ran.get(), "the other tasks still ran");
        int[] hits = new int[64];
        Parallel.forEach(64, t -> hits[t]++);
        for (int t = 0; t < 64; t++) {
            assertEquals(1, hits[t], "task " + t);
        }
    }

    /** A task that calls in again runs the inner tasks itself, one after the other, rather than deadlocking. */
    @Test
    void aNestedCallRunsInline() {
        java.util.concurrent.atomic.AtomicInteger inner = new java.util.concurrent.atomic.AtomicInteger();
        Parallel.forEach(Parallel.THREADS * 4, t -> Parallel.forRows(100, 8, (from, to) -> inner.addAndGet(to - from)));
        assertEquals(Parallel.THREADS * 4 * 100, inner.get());
    }

    /**
     * Callers on several threads at once, each with calls of its own size: every call sees exactly
     * its own tasks, however the workers are shared between them.
     */
    @Test
    void concurrentCallersEachGetTheirOwnTasks() throws Exception {
        int callers = 6;
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(callers);
        try {
            List<java.util.concurrent.Future<?>> done = new ArrayList<>();
            for (int c = 0; c < callers; c++) {
                int tasks = 20 + 13 * c;
                done.add(pool.submit(() -> {
                    for (int call = 0; call < 300; call++) {
                        int[] hits = new int[tasks];
                        Parallel.forEach(tasks, t -> hits[t]++);
                        for (int t = 0; t < tasks; t++) {
                            assertEquals(1, hits[t], "call " + call + " task " + t + " of " + tasks);
                        }
                    }
                    return null;
                }));
            }
            for (java.util.concurrent.Future<?> f : done) {
                f.get(60, java.util.concurrent.TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
    }
}

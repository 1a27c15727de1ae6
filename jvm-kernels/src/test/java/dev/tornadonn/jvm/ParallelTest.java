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
}

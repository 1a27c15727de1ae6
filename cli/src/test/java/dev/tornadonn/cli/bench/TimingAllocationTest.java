package dev.tornadonn.cli.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The heap a timed case allocates per call, and the note bench prints when a kernel's vectors were boxed. */
class TimingAllocationTest {
    private static final int ALLOCATED = 64 << 20;
    private static volatile Object sink;

    @Test
    void measureCountsTheHeapEachRunAllocates() {
        Timing allocating = Timing.measure(() -> sink = new byte[ALLOCATED], 3, 0.01);
        Timing quiet = Timing.measure(() -> sink = null, 3, 0.01);
        assertTrue(allocating.bytesPerRun() >= ALLOCATED, "64 MiB per run, counted " + allocating.bytesPerRun());
        assertTrue(quiet.bytesPerRun() >= 0 && quiet.bytesPerRun() < ALLOCATED / 4,
                "a run that allocates nothing, counted " + quiet.bytesPerRun());
    }

    @Test
    void numpyTimingsHaveNoAllocationFigure() {
        assertEquals(-1, Timing.of(new double[] {0.2, 0.1, 0.3}).bytesPerRun());
    }

    @Test
    void aCaseAllocatingFarBeyondItsActivationsIsReportedAsBoxed() {
        BenchCase gemv = BenchCase.linear(WeightFormat.FP8, 1, 32768, 8192);
        long activations = gemv.activationBytes();
        CaseResult boxed = result(gemv, 2_000_000_000L);
        CaseResult outputOnly = result(gemv, 4 * activations); // y, a copy of x: what a layer allocates
        assertTrue(Report.boxed(boxed));
        assertFalse(Report.boxed(outputOnly));
        assertFalse(Report.boxed(result(gemv, -1)), "not measured is not boxed");

        StringWriter text = new StringWriter();
        Report.print(new PrintWriter(text), roof(), null, true, List.of(boxed, outputOnly));
        List<String> notes = text.toString().lines().filter(l -> l.startsWith("note: ")).toList();
        assertEquals(1, notes.size(), text.toString());
        assertTrue(notes.get(0).contains("gemv fp8-e4m3 M=1 N=32768 K=8192 allocated 2000 MB per call"), notes.get(0));
    }

    private static CaseResult result(BenchCase c, long bytesPerRun) {
        return new CaseResult(c, c.weightElements(), new Timing(0.01, 0.01, 0.01, 3, bytesPerRun), null, roof());
    }

    private static MachineProbe.Roofline roof() {
        return new MachineProbe.Roofline(200, 40, 16, ReadProbe.of(2, 1L << 30));
    }
}

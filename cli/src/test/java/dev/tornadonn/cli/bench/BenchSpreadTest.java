package dev.tornadonn.cli.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * A neighbour's burst can make one timed call of numpy's small GEMV a thousand times slower, and a
 * ratio of such medians says nothing: every case shows min-max, a comparison whose spread exceeds
 * 20 % is flagged, numpy is timed in batches of at least 50 ms, and the weights are drawn as a
 * trained layer's are.
 */
class BenchSpreadTest {
    private static final BenchCase GEMV = BenchCase.linear(WeightFormat.F32, 1, 256, 256);
    private static final BenchCase GEMM = BenchCase.linear(WeightFormat.F32, 16, 256, 256);

    private static MachineProbe.Roofline roof() {
        return new MachineProbe.Roofline(200, 20, 16, ReadProbe.of(2, 1L << 30));
    }

    @Test
    void eachCaseShowsMinAndMaxAndANoisyComparisonIsFlagged() {
        Timing ours = new Timing(0.010, 0.0099, 0.0101, 20, 0);
        CaseResult steady = new CaseResult(GEMM, GEMM.weightElements(), ours, new Timing(0.020, 0.0199, 0.0202, 5, -1), roof());
        // numpy's median is a busy moment's: 12 ms, with runs from 0.015 ms to 20 ms.
        CaseResult noisy = new CaseResult(GEMV, GEMV.weightElements(), ours, new Timing(0.012, 0.000015, 0.020, 5, -1), roof());
        assertFalse(steady.unstable(), "spread " + steady.vsNumpySpread());
        assertTrue(noisy.unstable(), "spread " + noisy.vsNumpySpread());
        assertEquals(0.0199 / 0.0099, steady.vsNumpyOfMins(), 1e-12);
        assertEquals(0.1 / 10 + 0.1 / 20, steady.vsNumpySpread(), 1e-9);
        // One slow outlier moves only the maximum: not unstable.
        CaseResult outlier = new CaseResult(GEMM, GEMM.weightElements(), new Timing(0.010, 0.0099, 0.5, 20, 0),
                new Timing(0.020, 0.0199, 0.0202, 5, -1), roof());
        assertFalse(outlier.unstable(), "spread " + outlier.vsNumpySpread());
        assertTrue(Double.isNaN(new CaseResult(GEMM, 1, ours, null, roof()).vsNumpySpread()), "NaN without numpy");
        assertFalse(new CaseResult(GEMM, 1, ours, null, roof()).unstable(), "no comparison, nothing to flag");

        StringWriter text = new StringWriter();
        Report.print(new PrintWriter(text), roof(), new Numpy.Result(null, "numpy test", Map.of()), false, List.of(steady, noisy));
        List<String> lines = text.toString().lines().toList();
        String header = lines.stream().filter(l -> l.startsWith("case ")).findFirst().orElseThrow();
        assertTrue(header.contains("min-max ms") && header.contains("numpy min-max"), header);
        String steadyRow = lines.stream().filter(l -> l.contains("M=16 ")).findFirst().orElseThrow();
        String noisyRow = lines.stream().filter(l -> l.contains("M=1 ")).findFirst().orElseThrow();
        assertTrue(steadyRow.contains("9.90-10.1") && steadyRow.contains("2.00x (mins 2.01x, spread "), steadyRow);
        assertFalse(steadyRow.contains("unstable"), steadyRow);
        assertTrue(noisyRow.contains("0.015-20.0") && noisyRow.endsWith("unstable"), noisyRow);
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("unstable: 1 comparison with a spread above 20%")),
                text.toString());
    }

    @Test
    void weightsAreNormalWithStdOneOverSqrtInDim() {
        int rows = 256;
        int cols = 1024;
        float[] w = new WeightData().matrix(rows, cols, 0);
        double sum = 0;
        double sq = 0;
        double maxAbs = 0;
        for (float v : w) {
            sum += v;
            sq += (double) v * v;
            maxAbs = Math.max(maxAbs, Math.abs(v));
        }
        double mean = sum / w.length;
        double std = Math.sqrt(sq / w.length - mean * mean);
        double expected = 1 / Math.sqrt(cols);
        assertEquals(0, mean, 5 * expected / Math.sqrt(w.length), "mean");
        assertEquals(expected, std, 0.01 * expected, "std");
        // A normal's tails: about 0.27 % of values lie beyond 3 std; a uniform of that std has none.
        long beyond3 = 0;
        for (float v : w) {
            if (Math.abs(v) > 3 * expected) {
                beyond3++;
            }
        }
        assertEquals(0.0027, (double) beyond3 / w.length, 0.0008, "fraction beyond 3 std");
        assertTrue(maxAbs < 7 * expected, "max |w| " + maxAbs);
    }

    @Test
    void numpyIsTimedInBatchesOfAtLeastFiftyMilliseconds() throws Exception {
        Process probe;
        try {
            probe = new ProcessBuilder("python3", "-c", "import numpy").start();
        } catch (java.io.IOException e) {
            probe = null;
        }
        Assumptions.assumeTrue(probe != null && probe.waitFor() == 0, "python3 with numpy is not installed");
        Numpy.Result r = Numpy.run(List.<int[]>of(new int[] {1, 64, 64}), 3, 0.05, () -> {});
        assertTrue(r.available(), r.unavailable());
        String key = Numpy.key(1, 64, 64);
        Timing t = r.timings().get(key);
        int calls = r.callsPerSample().get(key);
        assertTrue(t.runs() >= 3, "at least three batches: " + t);
        assertTrue(calls > 100, "a 64x64 GEMV takes microseconds: many calls per batch, got " + calls);
        // Each batch lasted about 50 ms or more; the median per call times the batch size says so
        // (with room for a batch that ran faster than the one that sized it).
        assertTrue(calls * t.median() >= 0.025, calls + " calls x " + t.median() + " s");
    }
}

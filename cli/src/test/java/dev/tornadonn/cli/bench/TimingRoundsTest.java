package dev.tornadonn.cli.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A case timed in several rounds: what bench reports for it, and for numpy's shapes. */
class TimingRoundsTest {

    @Test
    void aCaseIsTheMedianOfItsRoundsMediansWithTheExtremesOfAllRuns() {
        Timing slow = new Timing(0.050, 0.045, 0.070, 10, 100);
        Timing fast = new Timing(0.020, 0.018, 0.025, 10, 300);
        Timing usual = new Timing(0.030, 0.029, 0.031, 7, -1);
        Timing t = Timing.acrossRounds(List.of(slow, fast, usual));
        assertEquals(0.030, t.median(), "one slow and one fast round do not move it");
        assertEquals(0.018, t.min());
        assertEquals(0.070, t.max());
        assertEquals(27, t.runs());
        assertEquals(300, t.bytesPerRun(), "a round that allocated (boxed vectors) is not hidden by the others");
    }

    @Test
    void twoRoundsTakeTheMeanOfTheirMediansAndOneRoundIsItself() {
        Timing a = new Timing(0.010, 0.009, 0.011, 5, 0);
        Timing b = new Timing(0.030, 0.029, 0.031, 5, 0);
        assertEquals(0.020, Timing.acrossRounds(List.of(a, b)).median(), 1e-15);
        assertSame(a, Timing.acrossRounds(List.of(a)));
    }

    @Test
    void numpyRoundsAreCombinedPerShapeAndAnUnavailableNumpyStaysUnavailable() {
        String key = Numpy.key(1, 32768, 8192);
        Numpy.Result r1 = new Numpy.Result(null, "cfg", Map.of(key, new Timing(0.040, 0.039, 0.041, 3, -1)));
        Numpy.Result r2 = new Numpy.Result(null, "cfg", Map.of(key, new Timing(0.060, 0.059, 0.061, 3, -1)));
        Numpy.Result r3 = new Numpy.Result(null, "cfg", Map.of(key, new Timing(0.045, 0.044, 0.046, 3, -1)));
        Numpy.Result all = Numpy.acrossRounds(List.of(r1, r2, r3));
        assertEquals(0.045, all.timings().get(key).median());
        assertEquals("cfg", all.config());
        Numpy.Result missing = new Numpy.Result("no numpy", null, Map.of());
        assertSame(missing, Numpy.acrossRounds(List.of(missing)));
    }
}

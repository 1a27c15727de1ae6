package dev.tornadonn.cli.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tornadonn.core.DeviceRef;
import org.junit.jupiter.api.Test;

/** A case timed in a JVM of its own: its figures come back, and its failure becomes a clear error. */
class CaseProcessTest {

    @Test
    void aForkedCaseReportsItsTimingAndWeightBytes() {
        BenchCase c = BenchCase.linear(WeightFormat.BF16, 1, 64, 128);
        CaseProcess.Measured m = CaseProcess.time(c, DeviceRef.parse("cpu"), 3, 0.01);
        assertEquals(2L * 64 * 128, m.weightBytes());
        assertTrue(m.timing().runs() >= 3 && m.timing().median() > 0, m.timing().toString());
        assertTrue(m.timing().min() <= m.timing().median() && m.timing().median() <= m.timing().max(), m.timing().toString());
        assertTrue(m.timing().bytesPerRun() >= 0, "the child measures its allocation: " + m.timing());
    }

    @Test
    void aCaseThatFailsInItsJvmIsAnErrorNamingTheCase() {
        BenchCase bad = BenchCase.linear(WeightFormat.F32, 1, -1, 128); // a negative width: the child throws
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> CaseProcess.time(bad, DeviceRef.parse("cpu"), 3, 0.01));
        assertTrue(e.getMessage().startsWith("bench case gemv f32 M=1 N=-1 K=128: its JVM exited with 1: dev.tornadonn.core.ConfigException: inDim and outDim must be >= 0"), e.getMessage());
    }
}

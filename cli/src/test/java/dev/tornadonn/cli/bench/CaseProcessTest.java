package dev.tornadonn.cli.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tornadonn.core.DeviceRef;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A case timed in a JVM of its own: its figures come back, and its failure becomes a clear error. */
class CaseProcessTest {

    @Test
    void aForkedCaseReportsItsTimingAndWeightBytes() {
        BenchCase c = BenchCase.linear(WeightFormat.BF16, 1, 64, 128);
        CaseProcess.Measured m = CaseProcess.time(List.of(c), DeviceRef.parse("cpu"), 3, 0.01).getFirst();
        assertEquals(2L * 64 * 128, m.weightBytes());
        assertTrue(m.timing().runs() >= 3 && m.timing().median() > 0, m.timing().toString());
        assertTrue(m.timing().min() <= m.timing().median() && m.timing().median() <= m.timing().max(), m.timing().toString());
        assertTrue(m.timing().bytesPerRun() >= 0, "the child measures its allocation: " + m.timing());
    }

    @Test
    void aCaseThatFailsInItsJvmIsAnErrorNamingTheCase() {
        BenchCase bad = BenchCase.linear(WeightFormat.F32, 1, -1, 128); // a negative width: the child throws
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> CaseProcess.time(List.of(bad), DeviceRef.parse("cpu"), 3, 0.01));
        assertTrue(e.getMessage().startsWith("bench case gemv f32 M=1 N=-1 K=128: its JVM exited with 1: dev.tornadonn.core.ConfigException: inDim and outDim must be >= 0"), e.getMessage());
    }

    @Test
    void mixedCasesLoadTogetherInOneJvmAndEachReportsItsOwnFigures() {
        List<BenchCase> group = List.of(BenchCase.mixed(WeightFormat.F32, 1, 64, 256), BenchCase.mixed(WeightFormat.FP8, 1, 64, 256),
                BenchCase.mixed(WeightFormat.GPTQ_INT4, 1, 64, 256));
        List<CaseProcess.Measured> m = CaseProcess.time(group, DeviceRef.parse("cpu"), 3, 0.01);
        assertEquals(3, m.size());
        assertEquals(4L * 64 * 256, m.get(0).weightBytes(), "f32 first, as asked");
        assertEquals(64L * 256 + 4 * 64, m.get(1).weightBytes(), "then the e4m3 codes and a scale per row");
        assertTrue(m.get(2).weightBytes() < m.get(1).weightBytes(), "then GPTQ's half-byte codes: " + m.get(2).weightBytes());
        for (CaseProcess.Measured each : m) {
            assertTrue(each.timing().runs() >= 3 && each.timing().median() > 0, each.timing().toString());
        }
    }

    @Test
    void aMixedGroupThatFailsNamesEveryFormat() {
        List<BenchCase> bad = List.of(BenchCase.mixed(WeightFormat.F32, 1, 64, 100), BenchCase.mixed(WeightFormat.GPTQ_INT4, 1, 64, 100));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> CaseProcess.time(bad, DeviceRef.parse("cpu"), 3, 0.01));
        // in_dim 100 is not a whole number of GPTQ's 32-bit words of 4-bit codes
        assertTrue(e.getMessage().startsWith("bench mixed cases f32, gptq-int4-g128 M=1 N=64 K=100: its JVM exited with 1: "), e.getMessage());
        assertTrue(e.getMessage().contains("in_dim 100"), e.getMessage());
    }
}

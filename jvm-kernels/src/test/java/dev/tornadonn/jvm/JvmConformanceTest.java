package dev.tornadonn.jvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.backend.Backends;
import dev.tornadonn.reference.CaseResult;
import dev.tornadonn.reference.ConformanceCase;
import dev.tornadonn.reference.ConformanceSuite;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The reference conformance suite on the default backend's cpu devices. */
class JvmConformanceTest {
    private static final long SEED = ConformanceSuite.baseSeed();
    private static final List<ConformanceCase> CASES = ConformanceSuite.cases(SEED);

    static {
        System.out.println("conformance base seed " + SEED + " (rerun with -D" + ConformanceSuite.SEED_PROPERTY + "=" + SEED + ")");
    }

    static Stream<ConformanceCase> cases() {
        return CASES.stream();
    }

    @ParameterizedTest(name = "{index}: {0}")
    @MethodSource("cases")
    void passesOnCpu0(ConformanceCase c) {
        CaseResult r = c.run(DeviceRef.cpu(0));
        assertTrue(r.passed(), r::describe);
    }

    @Test
    void passesOnAnotherCpuDevice() {
        for (int i = 0; i < CASES.size(); i += 5) { // a fifth of the suite, every kind of case
            ConformanceCase c = CASES.get(i);
            CaseResult r = c.run(DeviceRef.cpu(3));
            assertTrue(r.passed(), r::describe);
        }
    }

    @Test
    void theDefaultCpuBackendIsTheJvmOne() {
        assertEquals(JvmBackend.class, Backends.forDevice(DeviceRef.cpu(0)).getClass());
    }
}

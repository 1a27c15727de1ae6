package dev.tornadonn.tornado;

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

/**
 * The reference conformance suite on gpu:0, TornadoVM's first device: every Linear and MLP case,
 * and every fourth case of the quantised kinds the backend runs (GPTQ, fp8, int8, GGUF; each compiles
 * its own kernels; {@code tornado-nn conformance --device gpu:0} runs them all). Kinds it does not
 * run are refused by name.
 */
class TornadoConformanceTest {
    private static final long SEED = ConformanceSuite.baseSeed();
    private static final List<ConformanceCase> ALL = ConformanceSuite.cases(SEED);
    private static final java.util.Set<dev.tornadonn.core.weights.WeightKind> KINDS =
            Backends.forDevice(DeviceRef.gpu(0)).weightKinds(DeviceRef.gpu(0));
    private static final List<ConformanceCase> CASES = java.util.stream.IntStream.range(0, ALL.size())
            .filter(i -> KINDS.contains(ALL.get(i).weightKind()) && (!ALL.get(i).quantized() || i % 4 == 0))
            .mapToObj(ALL::get).toList();

    static {
        System.out.println("conformance base seed " + SEED + " (rerun with -D" + ConformanceSuite.SEED_PROPERTY + "=" + SEED + ")");
    }

    static Stream<ConformanceCase> cases() {
        return CASES.stream();
    }

    @ParameterizedTest(name = "{index}: {0}")
    @MethodSource("cases")
    void passesOnGpu0(ConformanceCase c) {
        CaseResult r = c.run(DeviceRef.gpu(0));
        assertTrue(r.passed(), r::describe);
    }

    /**
     * Every weight kind of the conformance suite has kernels on gpu:0, so none of its cases is "not
     * run" there; a kind added without them fails here (how a layer refuses a kind by name is
     * PreparedTest's, with a synthetic backend).
     */
    @Test
    void everyKindOfTheSuiteHasDeviceKernels() {
        List<dev.tornadonn.core.weights.WeightKind> missing = ALL.stream().map(ConformanceCase::weightKind)
                .filter(k -> !KINDS.contains(k)).distinct().toList();
        assertTrue(missing.isEmpty(), () -> "no gpu:0 kernels for " + missing);
    }

    @Test
    void gpu0IsRunByTheTornadoVmBackend() {
        assertEquals(TornadoVmBackend.class, Backends.forDevice(DeviceRef.gpu(0)).getClass());
    }

    @Test
    void everyLinearAndMlpCaseAndSomeQuantisedOnesAreHere() {
        assertTrue(CASES.stream().filter(c -> !c.quantized()).count() >= 90, "only " + CASES.size() + " cases");
        assertTrue(CASES.stream().anyMatch(c -> c.weightKind() == dev.tornadonn.core.weights.WeightKind.GROUP_QUANTIZED));
        assertTrue(CASES.stream().anyMatch(c -> c.weightKind() == dev.tornadonn.core.weights.WeightKind.FP8));
        assertTrue(CASES.stream().anyMatch(c -> c.weightKind() == dev.tornadonn.core.weights.WeightKind.GGUF));
        assertTrue(CASES.stream().anyMatch(c -> c.weightKind() == dev.tornadonn.core.weights.WeightKind.INT8));
    }
}

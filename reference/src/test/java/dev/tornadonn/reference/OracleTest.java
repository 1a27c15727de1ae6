package dev.tornadonn.reference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tornadonn.core.Activation;
import dev.tornadonn.core.DType;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class OracleTest {

    @Test
    void linearByHand() {
        // x = [[1, 2], [3, 4]], w = [[1, 0], [1, 1], [0, -1]], b = [10, 20, 30]
        double[] y = Oracle.linear(new double[] {1, 2, 3, 4}, 2, 2, new double[] {1, 0, 1, 1, 0, -1}, 3,
                new double[] {10, 20, 30});
        assertArrayEquals(new double[] {11, 23, 28, 13, 27, 26}, y, 0);
    }

    @Test
    void mlpByHand() {
        // hidden 1, ffn 2: gate = [x, -x], up = [2x, 3x], down = [1, 1]; x = 2, relu
        double[] y = Oracle.mlp(new double[] {2}, 1, 1, 2, Activation.RELU, new double[] {1, -1}, null,
                new double[] {2, 3}, null, new double[] {1, 1}, new double[] {0.5});
        assertArrayEquals(new double[] {2 * 4 + 0 * 6 + 0.5}, y, 0);
    }

    @Test
    void activationsMatchPublishedValues() {
        // MAX's worked examples (spec §9), in f32.
        assertEquals(0.8413447f, (float) Oracle.activate(Activation.GELU, 1.0), 1e-7);
        assertEquals(0.8411920f, (float) Oracle.activate(Activation.GELU_TANH, 1.0), 1e-7);
        assertEquals(0.7310586f, (float) Oracle.activate(Activation.SILU, 1.0), 1e-7);
        assertEquals(1.0 / (1 + Math.exp(-1.702)), Oracle.activate(Activation.QUICK_GELU, 1.0), 1e-15);
    }

    @Test
    void clipClampsSymmetrically() {
        assertArrayEquals(new double[] {-0.5, 0.25, 0.5}, Oracle.clip(new double[] {-3, 0.25, 9}, 0.5), 0);
    }

    @Test
    void nanAndInfinityNeverPass() {
        double[] ref = {1, 2, 3};
        assertTrue(Comparison.of(new float[] {1, 2, 3}, ref).within(Tolerance.F32_ACCUMULATION));
        assertFalse(Comparison.of(new float[] {1, Float.NaN, 3}, ref).within(Tolerance.F32_ACCUMULATION));
        assertFalse(Comparison.of(new float[] {1, Float.POSITIVE_INFINITY, 3}, ref).within(Tolerance.F32_ACCUMULATION));
        assertFalse(Comparison.of(new float[] {1, 2, 3.001f}, ref).within(Tolerance.F32_ACCUMULATION));
        assertTrue(Comparison.of(new float[] {0, 0}, new double[] {0, 0}).within(Tolerance.F32_ACCUMULATION));
        assertFalse(Comparison.of(new float[] {0, 1e-3f}, new double[] {0, 0}).within(Tolerance.F32_ACCUMULATION));
        // f32 cannot hold 1e-46: an underflow to zero is not the kernel's error, 1e-20 off would be.
        assertTrue(Comparison.of(new float[] {0}, new double[] {2e-46}).within(Tolerance.F32_ACCUMULATION));
        assertFalse(Comparison.of(new float[] {1e-20f}, new double[] {2e-46}).within(Tolerance.F32_ACCUMULATION));
    }

    @Test
    void theSuiteCoversEveryDtypeActivationAndAwkwardSize() {
        List<ConformanceCase> cases = ConformanceSuite.cases(42);
        Set<DType> dtypes = cases.stream().filter(c -> c instanceof LinearCase || c instanceof MlpCase)
                .map(ConformanceCase::dtype).collect(Collectors.toSet());
        assertEquals(Set.of(DType.F32, DType.BF16, DType.F16), dtypes);
        Set<Integer> gptqBits = cases.stream().filter(c -> c instanceof GptqLinearCase)
                .map(c -> ((GptqLinearCase) c).quant().bits()).collect(Collectors.toSet());
        assertEquals(Set.of(2, 3, 4, 8), gptqBits);
        Set<DType> fp8 = cases.stream().filter(c -> c instanceof Fp8LinearCase).map(ConformanceCase::dtype)
                .collect(Collectors.toSet());
        assertEquals(Set.of(DType.F8_E4M3FN, DType.F8_E5M2), fp8);
        Set<Activation> acts = cases.stream().filter(c -> c instanceof MlpCase).map(c -> ((MlpCase) c).activation())
                .collect(Collectors.toCollection(() -> EnumSet.noneOf(Activation.class)));
        assertEquals(EnumSet.allOf(Activation.class), acts);
        String shapes = cases.stream().map(ConformanceCase::shape).collect(Collectors.joining(" "));
        for (String size : List.of("1", "7", "13", "127", "129", "4097")) {
            assertTrue(shapes.matches("(?s).*\\b" + size + "\\b.*"), "no case with size " + size);
        }
        assertTrue(cases.stream().anyMatch(c -> c instanceof LinearCase l && l.clip() != 0));
        assertTrue(cases.stream().anyMatch(c -> c instanceof LinearCase l && l.xShape().rank() == 1));
        assertTrue(cases.stream().anyMatch(c -> c instanceof LinearCase l && l.xShape().rank() == 3));
        assertEquals(cases.size(), cases.stream().map(ConformanceCase::seed).distinct().count(), "seeds must differ");
        assertEquals(ConformanceSuite.cases(42), cases, "a base seed reproduces the suite");
    }
}

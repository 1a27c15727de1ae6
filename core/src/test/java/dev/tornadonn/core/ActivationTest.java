package dev.tornadonn.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.function.DoubleUnaryOperator;
import org.apache.commons.math3.special.Erf;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

class ActivationTest {
    private static final double SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

    /** σ(t) written without cancellation or overflow on either side. */
    private static double sigmoid(double t) {
        if (t >= 0) {
            return 1 / (1 + Math.exp(-t));
        }
        double e = Math.exp(t);
        return e / (1 + e);
    }

    /** Independent double-precision definitions (formulas chosen to differ from the library's). */
    static double reference(Activation a, double x) {
        return switch (a) {
            case SILU -> x * sigmoid(x);
            // erfc from commons-math, so the negative tail keeps relative accuracy.
            case GELU -> 0.5 * x * Erf.erfc(-x / Math.sqrt(2));
            // 0.5·(1 + tanh(u)) = σ(2u), which does not cancel for negative u.
            case GELU_TANH -> x * sigmoid(2 * SQRT_2_OVER_PI * (x + 0.044715 * x * x * x));
            case RELU -> Math.max(x, 0);
            case TANH -> {
                double e = Math.expm1(-2 * Math.abs(x)); // tanh|x| = -expm1(-2|x|) / (2 + expm1(-2|x|))
                yield Math.copySign(-e / (2 + e), x);
            }
            case SIGMOID -> sigmoid(x);
            case QUICK_GELU -> x * sigmoid(1.702 * x);
        };
    }

    private static float ulp1(float expected) {
        return Math.ulp(expected);
    }

    @Test
    void documentedValuesAtOne() {
        assertEquals(0.8413447f, Activation.GELU.apply(1.0f), Math.ulp(0.8413447f));
        assertEquals(0.8411920f, Activation.GELU_TANH.apply(1.0f), Math.ulp(0.8411920f));
        assertEquals(0.7310586f, Activation.SILU.apply(1.0f), Math.ulp(0.7310586f));
        assertEquals(0.7310586f, Activation.SIGMOID.apply(1.0f), Math.ulp(0.7310586f));
        assertEquals(0.7615942f, Activation.TANH.apply(1.0f), Math.ulp(0.7615942f));
        assertEquals(0.8457957f, Activation.QUICK_GELU.apply(1.0f), Math.ulp(0.8457957f));
        assertEquals(1.0f, Activation.RELU.apply(1.0f));
        assertEquals(-0.15865526f, Activation.GELU.apply(-1.0f), Math.ulp(0.15865526f));
        assertEquals(-0.26894143f, Activation.SILU.apply(-1.0f), Math.ulp(0.26894143f));
    }

    private static List<Float> grid() {
        List<Float> xs = new ArrayList<>();
        for (int i = -4000; i <= 4000; i++) {
            xs.add(i * 0.005f); // [-20, 20]
        }
        for (float x = 20; x < 3e38f; x *= 1.37f) {
            xs.add(x);
            xs.add(-x);
        }
        for (float x : new float[] {0f, -0f, 1e-30f, -1e-30f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL,
                1e-7f, -1e-7f, 40f, -40f, 87.5f, -87.5f, 88.8f, -88.8f, 100f, -100f, 104f, -104f, 710f, -710f,
                1e4f, -1e4f, 1e10f, -1e10f, 1e20f, -1e20f, Float.MAX_VALUE, -Float.MAX_VALUE}) {
            xs.add(x);
        }
        return xs;
    }

    @ParameterizedTest
    @EnumSource(Activation.class)
    void withinOneUlpOfAnIndependentFormulaIncludingLargeInputs(Activation a) {
        List<String> bad = new ArrayList<>();
        int failures = 0;
        for (float x : grid()) {
            float actual = a.apply(x);
            double expected = reference(a, x);
            float expectedF = (float) expected;
            boolean ok = !Float.isNaN(actual) && Math.abs(actual - expected) <= ulp1(expectedF);
            if (!ok) {
                failures++;
                if (bad.size() < 15) {
                    bad.add(a + "(" + x + ") = " + actual + ", expected " + expected);
                }
            }
        }
        if (failures > 0) {
            fail(failures + " point(s) off by more than 1 ulp:\n  " + String.join("\n  ", bad));
        }
    }

    @Test
    void limitsAtLargeInputs() {
        for (Activation a : new Activation[] {Activation.SILU, Activation.GELU, Activation.GELU_TANH, Activation.QUICK_GELU, Activation.RELU}) {
            assertEquals(Float.MAX_VALUE, a.apply(Float.MAX_VALUE), a.toString());
            assertEquals(1e10f, a.apply(1e10f), a.toString());
            assertEquals(0f, a.apply(-1e10f), 0f, a.toString());
            assertEquals(0f, a.apply(-Float.MAX_VALUE), 0f, a.toString());
            assertEquals(Float.POSITIVE_INFINITY, a.apply(Float.POSITIVE_INFINITY), a.toString());
            // An overflowed gate: the limit, 0, so that act(gate)·up is not NaN.
            assertEquals(0f, a.apply(Float.NEGATIVE_INFINITY), 0f, a.toString());
        }
        assertEquals(1f, Activation.TANH.apply(1e10f));
        assertEquals(-1f, Activation.TANH.apply(-Float.MAX_VALUE));
        assertEquals(1f, Activation.SIGMOID.apply(1e10f));
        assertEquals(0f, Activation.SIGMOID.apply(-1e10f));
        assertEquals(0f, Activation.SIGMOID.apply(Float.NEGATIVE_INFINITY));
        assertEquals(-1f, Activation.TANH.apply(Float.NEGATIVE_INFINITY));
    }

    @Test
    void reluKeepsNaNAndZeroesNegatives() {
        assertTrue(Float.isNaN(Activation.RELU.apply(Float.NaN)));
        assertEquals(0f, Activation.RELU.apply(-3f));
        assertEquals(0f, Activation.RELU.apply(Float.NEGATIVE_INFINITY));
        assertEquals(2.5f, Activation.RELU.apply(2.5f));
        assertEquals(Float.MIN_VALUE, Activation.RELU.apply(Float.MIN_VALUE));
        assertFalse(Float.isNaN(Activation.RELU.apply(-0f)));
        assertEquals(0f, Activation.RELU.apply(-0f), 0f);
    }

    @ParameterizedTest
    @EnumSource(Activation.class)
    void nanPropagates(Activation a) {
        assertTrue(Float.isNaN(a.apply(Float.NaN)), a.toString());
    }

    @ParameterizedTest
    @CsvSource({
        "silu, SILU", "SiLU, SILU", " swish , SILU", "gelu, GELU", "GELU, GELU",
        "gelu_tanh, GELU_TANH", "gelu_pytorch_tanh, GELU_TANH", "gelu_new, GELU_TANH", "Gelu_New, GELU_TANH",
        "relu, RELU", "tanh, TANH", "sigmoid, SIGMOID", "quick_gelu, QUICK_GELU",
    })
    void fromNameAcceptsNamesAndAliases(String name, Activation expected) {
        assertSame(expected, Activation.fromName(name));
    }

    @Test
    void everyConfigNameResolvesToItself() {
        for (Activation a : Activation.values()) {
            assertSame(a, Activation.fromName(a.configName()));
        }
        assertEquals("gelu_tanh", Activation.GELU_TANH.configName());
        assertEquals("quick_gelu", Activation.QUICK_GELU.configName());
    }

    @Test
    void unknownNameListsEveryValidName() {
        for (String bad : new String[] {"gelu_fast", "swiglu", "", "  "}) {
            ConfigException e = assertThrows(ConfigException.class, () -> Activation.fromName(bad));
            String m = e.getMessage();
            assertTrue(m.contains("'" + bad + "'"), m);
            for (String valid : new String[] {"silu", "gelu", "gelu_tanh", "relu", "tanh", "sigmoid", "quick_gelu"}) {
                assertTrue(m.contains(valid), "message must list '" + valid + "': " + m);
            }
        }
        ConfigException e = assertThrows(ConfigException.class, () -> Activation.fromName(null));
        assertTrue(e.getMessage().contains("silu"), e.getMessage());
        assertEquals("silu, gelu, gelu_tanh, relu, tanh, sigmoid, quick_gelu", Activation.validNames());
    }

    @Test
    void referenceFormulasSanity() {
        // Guard the oracle itself with textbook values.
        DoubleUnaryOperator gelu = x -> reference(Activation.GELU, x);
        assertEquals(0.8413447460685429, gelu.applyAsDouble(1), 1e-15);
        assertEquals(0.7310585786300049, reference(Activation.SILU, 1), 1e-15);
        assertEquals(0.8411919906082768, reference(Activation.GELU_TANH, 1), 1e-15);
        assertEquals(Math.tanh(0.3), reference(Activation.TANH, 0.3), 1e-16);
    }
}

package dev.tornadonn.twins;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tornadonn.core.Activation;
import dev.tornadonn.reference.Oracle;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The device activations in f32 against their float64 definitions, over a dense grid and the boundaries. */
class KernelActivationTest {
    /** f32 exp plus a few roundings; GELU's erfc approximation adds 1.2e-7. */
    private static final double RELATIVE = 2e-6;
    /**
     * How far the output moves when v moves by this many of its ulps: in the far tails the exp
     * argument's rounding is amplified by the function's own condition number, which no f32
     * evaluation avoids.
     */
    private static final double INPUT_ULPS = 4;
    /** Outputs below this are f32 underflow (and the double oracle's own cancellation), not error. */
    private static final double ABSOLUTE = 1e-35;

    @ParameterizedTest
    @EnumSource(Activation.class)
    void matchesTheDefinitionInDouble(Activation act) {
        int code = KernelActivation.code(act);
        double worst = 0;
        for (int i = -400_000; i <= 400_000; i++) {
            float v = i * 5e-5f; // [-20, 20]
            worst = Math.max(worst, check(act, code, v));
        }
        for (float v : new float[] {0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, 1e-30f, -1e-30f, 0.0625f, -0.0625f,
                0.06249f, 50f, -50f, 88f, -88f, 100f, -100f, 1e4f, -1e4f, Float.MAX_VALUE, -Float.MAX_VALUE}) {
            worst = Math.max(worst, check(act, code, v));
        }
        System.out.printf("%s: worst relative error %.3g%n", act, worst);
    }

    @ParameterizedTest
    @EnumSource(Activation.class)
    void nanStaysNan(Activation act) {
        int code = KernelActivation.code(act);
        float v = Float.NaN;
        float r = KernelActivation.finish(code, v, (float) Math.exp(KernelActivation.argument(code, v)));
        assertTrue(Float.isNaN(r), act + "(NaN) = " + r);
    }

    @ParameterizedTest
    @EnumSource(Activation.class)
    void codesAreDistinctAndNotNone(Activation act) {
        int code = KernelActivation.code(act);
        assertTrue(code != KernelActivation.NONE);
        for (Activation other : Activation.values()) {
            if (other != act) {
                assertTrue(code != KernelActivation.code(other), act + " and " + other);
            }
        }
        float v = 0.75f;
        assertEquals(v, KernelActivation.finish(KernelActivation.NONE, v, 1f));
    }

    private static double check(Activation act, int code, float v) {
        float got = KernelActivation.finish(code, v, (float) Math.exp(KernelActivation.argument(code, v)));
        double ref = Oracle.activate(act, v);
        double err = Math.abs(got - ref);
        double conditioned = Math.abs(Oracle.activate(act, v + INPUT_ULPS * Math.ulp(v)) - ref);
        assertTrue(err <= RELATIVE * Math.abs(ref) + conditioned + ABSOLUTE,
                act + "(" + v + ") = " + got + ", expected " + ref + " (error " + err + ")");
        return Math.abs(ref) > 1e-30 ? err / Math.abs(ref) : 0;
    }
}

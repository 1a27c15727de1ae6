package dev.tornadonn.core.numeric;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tornadonn.core.numeric.FormatChecks.Failures;
import org.apache.commons.math3.special.Erf;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ErrorFunctionTest {
    private static final double REL_TOL = 1e-13;

    /**
     * Relative error at most {@link #REL_TOL} where the reference is a normal double; where it is
     * subnormal (erfc beyond about 26.55) only a non-negative result below the normal range is required.
     */
    private static void expectClose(Failures f, String what, double x, double reference, double actual) {
        if (Math.abs(reference) < Double.MIN_NORMAL) {
            f.check(actual >= 0 && actual < Double.MIN_NORMAL, what + "(" + x + ") = " + actual + ", reference " + reference);
            return;
        }
        double rel = Math.abs(actual - reference) / Math.abs(reference);
        f.check(rel <= REL_TOL, what + "(" + x + ") = " + actual + ", reference " + reference + ", rel. error " + rel);
    }

    /** Where the commons-math oracle is replaced by {@link #asymptoticErfc} (see there). */
    private static final double TAIL = 6.0;

    /**
     * erfc for x >= 6 from the asymptotic series e^{-x²}/(x√π) · Σ (-1)^n (2n-1)!!/(2x²)^n, with
     * x² split exactly into hi + lo (fma) so e^{-x²} carries no rounding of x². Commons-math's
     * erfc, via the regularized gamma function, loses up to ~1.2e-13 relative in this tail (checked
     * against 50-digit mpmath), too much to serve as a 1e-13 oracle there.
     */
    static double asymptoticErfc(double x) {
        double hi = x * x;
        double lo = Math.fma(x, x, -hi);
        double twoX2 = 2 * hi;
        double term = 1;
        double sum = 1;
        for (int n = 1; n < 100; n++) {
            double next = -term * (2 * n - 1) / twoX2;
            if (Math.abs(next) >= Math.abs(term)) {
                break; // the asymptotic series has started to diverge
            }
            term = next;
            sum += term;
            if (Math.abs(term) < 1e-20 * sum) {
                break;
            }
        }
        return Math.exp(-hi) * (1 - lo) / (x * Math.sqrt(Math.PI)) * sum;
    }

    /** erfc(x) from an oracle independent of the code under test. */
    static double referenceErfc(double x) {
        if (x >= TAIL) {
            return asymptoticErfc(x);
        }
        if (x <= -TAIL) {
            return 2 - asymptoticErfc(-x);
        }
        return Erf.erfc(x);
    }

    /** erf(x): commons-math, but its regularized gamma underflows to 0 for |x| below ~1e-154. */
    static double referenceErf(double x) {
        if (Math.abs(x) < 1e-8) {
            return 2 / Math.sqrt(Math.PI) * x * (1 - x * x / 3); // Maclaurin, next term ~x^5/10
        }
        if (Math.abs(x) >= TAIL) {
            return Math.copySign(1 - asymptoticErfc(Math.abs(x)), x);
        }
        return Erf.erf(x);
    }

    private static void checkPoint(Failures f, double x) {
        expectClose(f, "erf", x, referenceErf(x), ErrorFunction.erf(x));
        expectClose(f, "erfc", x, referenceErfc(x), ErrorFunction.erfc(x));
    }

    @Test
    void asymptoticReferenceAgreesWithCommonsMathAndMpmath() {
        for (double x = TAIL; x <= 26.5; x += 0.01) {
            double a = asymptoticErfc(x);
            double c = Erf.erfc(x);
            assertEquals(c, a, 2e-13 * c, "tail oracles disagree at " + x);
        }
        // 50-digit mpmath values at these exact doubles.
        assertEquals(2.088487583762545e-45, asymptoticErfc(10), 2e-16 * 2.088487583762545e-45);
        assertEquals(5.663192408856143e-296, asymptoticErfc(26), 2e-16 * 5.663192408856143e-296);
    }

    @Test
    void denseGridAgainstCommonsMath() {
        Failures f = new Failures("erf/erfc on [-30, 30]");
        for (int i = -12_000; i <= 12_000; i++) {
            checkPoint(f, i * 0.0025);
        }
        f.assertNone();
    }

    @Test
    void irregularPointsAndAlgorithmSwitchesAgainstCommonsMath() {
        Failures f = new Failures("erf/erfc irregular points");
        // A step that is not a binary fraction, so the grid hits all sorts of mantissas.
        for (double x = -30; x <= 30; x += 0.0173205080756887) {
            checkPoint(f, x);
        }
        // Both sides of every place an implementation may switch methods.
        for (double s : new double[] {0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 6.0}) {
            for (double x = s - 1e-3; x <= s + 1e-3; x += 1e-5) {
                checkPoint(f, x);
                checkPoint(f, -x);
            }
            checkPoint(f, Math.nextDown(s));
            checkPoint(f, s);
            checkPoint(f, Math.nextUp(s));
            checkPoint(f, -s);
        }
        for (double x = 1e-300; x < 1; x *= 7.3) {
            checkPoint(f, x);
            checkPoint(f, -x);
        }
        f.assertNone();
    }

    /** High-precision values (mpmath, 40 digits, rounded to double); commons-math is not the only oracle. */
    @ParameterizedTest
    @CsvSource({
        "0.5, 0.5204998778130465, 0.4795001221869535",
        "1.0, 0.8427007929497149, 0.15729920705028513",
        "1.5, 0.9661051464753108, 0.033894853524689274",
        "2.5, 0.999593047982555, 0.0004069520174449589",
        "5, 0.9999999999984626, 1.537459794428035e-12",
        "10, 1.0, 2.088487583762545e-45",
        "26, 1.0, 5.663192408856143e-296",
        "-1.0, -0.8427007929497149, 1.8427007929497148",
        "-3.0, -0.9999779095030014, 1.9999779095030015",
    })
    void highPrecisionValues(double x, double erf, double erfc) {
        assertEquals(erf, ErrorFunction.erf(x), Math.abs(erf) * REL_TOL, "erf(" + x + ")");
        assertEquals(erfc, ErrorFunction.erfc(x), Math.abs(erfc) * REL_TOL, "erfc(" + x + ")");
        assertEquals(erf, Erf.erf(x), Math.abs(erf) * REL_TOL, "the commons-math oracle itself, erf(" + x + ")");
        assertEquals(erfc, Erf.erfc(x), Math.abs(erfc) * REL_TOL, "the commons-math oracle itself, erfc(" + x + ")");
    }

    @Test
    void tailValues() {
        for (double x : new double[] {5, 10, 15, 20, 25, 26, 26.5}) {
            double ref = referenceErfc(x);
            double rel = Math.abs(ErrorFunction.erfc(x) - ref) / ref;
            assertTrue(rel <= REL_TOL, "erfc(" + x + ") = " + ErrorFunction.erfc(x) + " vs " + ref + " (rel " + rel + ")");
            assertTrue(ErrorFunction.erfc(x) > 0);
            assertEquals(2.0 - ref, ErrorFunction.erfc(-x), 1e-15);
        }
    }

    @Test
    void smallArgumentsKeepRelativeAccuracy() {
        assertEquals(1.1283791670955126e-10, ErrorFunction.erf(1e-10), 1.1283791670955126e-10 * REL_TOL);
        assertEquals(0.0011283787909692365, ErrorFunction.erf(1e-3), 0.0011283787909692365 * REL_TOL);
        assertEquals(-1.1283791670955126e-10, ErrorFunction.erf(-1e-10), 1.1283791670955126e-10 * REL_TOL);
    }

    @Test
    void specialValues() {
        assertTrue(Double.isNaN(ErrorFunction.erf(Double.NaN)));
        assertTrue(Double.isNaN(ErrorFunction.erfc(Double.NaN)));
        assertEquals(0.0, ErrorFunction.erf(0.0));
        assertEquals(Double.doubleToRawLongBits(-0.0), Double.doubleToRawLongBits(ErrorFunction.erf(-0.0)));
        assertEquals(1.0, ErrorFunction.erfc(0.0));
        assertEquals(1.0, ErrorFunction.erfc(-0.0));
        assertEquals(1.0, ErrorFunction.erf(Double.POSITIVE_INFINITY));
        assertEquals(-1.0, ErrorFunction.erf(Double.NEGATIVE_INFINITY));
        assertEquals(0.0, ErrorFunction.erfc(Double.POSITIVE_INFINITY));
        assertEquals(2.0, ErrorFunction.erfc(Double.NEGATIVE_INFINITY));
        assertEquals(0.0, ErrorFunction.erfc(40));
        assertEquals(2.0, ErrorFunction.erfc(-40));
        assertEquals(1.0, ErrorFunction.erf(40));
        assertEquals(-1.0, ErrorFunction.erf(-40));
    }

    @Test
    void symmetries() {
        for (double x = 0; x <= 6; x += 0.01) {
            assertEquals(-ErrorFunction.erf(x), ErrorFunction.erf(-x), 0.0, "erf is odd at " + x);
            assertEquals(2.0, ErrorFunction.erfc(x) + ErrorFunction.erfc(-x), 1e-15, "erfc(x) + erfc(-x) at " + x);
            assertEquals(1.0, ErrorFunction.erf(x) + ErrorFunction.erfc(x), 1e-15, "erf + erfc at " + x);
        }
    }
}

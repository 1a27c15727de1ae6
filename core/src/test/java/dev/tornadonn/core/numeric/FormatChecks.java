package dev.tornadonn.core.numeric;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.IntToDoubleFunction;

/**
 * Format-independent checks for small binary float formats. Every expected value comes from a
 * test-side decoding ({@code decode}) written from the format's definition, never from the code
 * under test; {@code encode} is the code under test.
 */
final class FormatChecks {
    private FormatChecks() {}

    /** The encoder under test, its result masked to the format's width. */
    interface Encoder {
        int encode(float value);
    }

    /** How a format treats finite values beyond its largest finite one. */
    enum Overflow {
        /** IEEE: round to nearest even with infinity as the value after max (bf16, fp16). */
        TO_INFINITY,
        /** OCP fp8 "saturating" conversion: every finite value above max becomes max. */
        SATURATE
    }

    /** Collects failures so one run reports how many patterns are wrong, with the first few. */
    static final class Failures {
        private final String what;
        private final List<String> first = new ArrayList<>();
        private int count;

        Failures(String what) {
            this.what = what;
        }

        void check(boolean ok, String message) {
            if (!ok) {
                count++;
                if (first.size() < 20) {
                    first.add(message);
                }
            }
        }

        void expectBits(int expected, int actual, String context) {
            check(expected == actual, context + ": expected 0x" + Integer.toHexString(expected)
                    + " got 0x" + Integer.toHexString(actual));
        }

        void assertNone() {
            if (count > 0) {
                fail(what + ": " + count + " failure(s); first ones:\n  " + String.join("\n  ", first));
            }
        }
    }

    /**
     * The decoded magnitudes of patterns {@code 0..maxFinite}, which for these sign-magnitude
     * formats must be strictly increasing (checked, since the rest relies on it).
     */
    static double[] positiveTable(IntToDoubleFunction decode, int maxFinite) {
        double[] v = new double[maxFinite + 1];
        for (int p = 0; p <= maxFinite; p++) {
            v[p] = decode.applyAsDouble(p);
            assertTrue(Double.isFinite(v[p]), "reference decode of 0x" + Integer.toHexString(p) + " must be finite");
            if (p > 0) {
                assertTrue(v[p] > v[p - 1], "reference table must increase at 0x" + Integer.toHexString(p));
            }
        }
        assertEquals(0.0, v[0]);
        return v;
    }

    /**
     * Ties-to-even at the exact midpoint of every pair of adjacent finite values (both signs),
     * and the nearer value one float ulp either side of it.
     */
    static void checkMidpoints(String name, double[] table, int signBit, Encoder enc) {
        Failures f = new Failures(name + " midpoints");
        for (int p = 0; p + 1 < table.length; p++) {
            double lo = table[p];
            double hi = table[p + 1];
            double mid = (lo + hi) / 2; // exact in double
            float midF = (float) mid;
            assertEquals(mid, midF, 0.0, name + ": midpoint of 0x" + Integer.toHexString(p) + " must be a float");
            int even = (p & 1) == 0 ? p : p + 1;
            float below = Math.nextDown(midF);
            float above = Math.nextUp(midF);
            assertTrue(below > lo && above < hi);
            f.expectBits(even, enc.encode(midF), "encode(" + midF + ") [tie 0x" + Integer.toHexString(p) + "/0x" + Integer.toHexString(p + 1) + "]");
            f.expectBits(p, enc.encode(below), "encode(" + below + ") [just below tie]");
            f.expectBits(p + 1, enc.encode(above), "encode(" + above + ") [just above tie]");
            f.expectBits(signBit | even, enc.encode(-midF), "encode(" + -midF + ") [tie]");
            f.expectBits(signBit | p, enc.encode(-below), "encode(" + -below + ")");
            f.expectBits(signBit | (p + 1), enc.encode(-above), "encode(" + -above + ")");
        }
        f.assertNone();
    }

    /**
     * Reference round-to-nearest-even of a non-NaN float, by binary search in {@code table}
     * (patterns 0..maxFinite). {@code infPattern} is the positive infinity pattern, or -1.
     */
    static int referenceEncode(float x, double[] table, int signBit, int infPattern, Overflow overflow) {
        int sign = (Float.floatToRawIntBits(x) < 0) ? signBit : 0;
        double a = Math.abs((double) x);
        int maxFinite = table.length - 1;
        double max = table[maxFinite];
        if (Double.isInfinite(a)) {
            return sign | (infPattern >= 0 ? infPattern : maxFinite);
        }
        if (a > max) {
            if (overflow == Overflow.SATURATE) {
                return sign | maxFinite;
            }
            double next = max + (max - table[maxFinite - 1]); // where the next binade's value would be
            double mid = (max + next) / 2;
            // max's pattern is odd (all-ones mantissa) so the tie goes to infinity.
            return sign | (a >= mid ? infPattern : maxFinite);
        }
        int lo = 0;
        int hi = maxFinite;
        while (lo < hi) { // largest index with table[idx] <= a
            int m = (lo + hi + 1) >>> 1;
            if (table[m] <= a) {
                lo = m;
            } else {
                hi = m - 1;
            }
        }
        if (table[lo] == a || lo == maxFinite) {
            return sign | lo;
        }
        double dLo = a - table[lo];
        double dHi = table[lo + 1] - a;
        int pick = dLo < dHi ? lo : dHi < dLo ? lo + 1 : ((lo & 1) == 0 ? lo : lo + 1);
        return sign | pick;
    }

    /** Random floats, both uniform over bit patterns and concentrated in the format's range, against the reference. */
    static void checkRandom(String name, long seed, int samples, double[] table, int signBit, int infPattern,
                            Overflow overflow, Encoder enc) {
        SplittableRandom rnd = new SplittableRandom(seed);
        Failures f = new Failures(name + " random encode (seed " + seed + ")");
        int maxExp = Math.getExponent((float) table[table.length - 1]) + 2;
        int minExp = Math.getExponent((float) table[1]) - 3;
        for (int i = 0; i < samples; i++) {
            float x;
            if ((i & 1) == 0) {
                x = Float.intBitsToFloat(rnd.nextInt());
                if (Float.isNaN(x)) {
                    continue;
                }
            } else {
                int e = rnd.nextInt(minExp, maxExp + 1);
                x = Math.scalb((float) rnd.nextDouble(1.0, 2.0), e);
                if (rnd.nextBoolean()) {
                    x = -x;
                }
            }
            int expected = referenceEncode(x, table, signBit, infPattern, overflow);
            f.expectBits(expected, enc.encode(x), "encode(" + x + " = 0x" + Integer.toHexString(Float.floatToRawIntBits(x)) + ")");
        }
        f.assertNone();
    }

    /** Bit-exact double comparison that tells +0 from -0. */
    static boolean sameDouble(double expected, double actual) {
        if (Double.isNaN(expected)) {
            return Double.isNaN(actual);
        }
        return Double.doubleToRawLongBits(expected) == Double.doubleToRawLongBits(actual);
    }

    static long seed(String what) {
        long seed = Long.getLong("tornadonn.test.seed", System.nanoTime());
        System.out.println(what + ": random seed " + seed + " (rerun with -Dtornadonn.test.seed=" + seed + ")");
        return seed;
    }
}

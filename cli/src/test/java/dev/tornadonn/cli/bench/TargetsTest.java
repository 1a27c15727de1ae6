package dev.tornadonn.cli.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The targets of issue #19, evaluated on synthetic results (no timing): which ratio each takes,
 * against which side, the bound, and the spread over rounds.
 */
class TargetsTest {
    private static final int N = Targets.GEMV_N;
    private static final int K = Targets.GEMV_K;
    private static final int NK = Targets.GEMM_NK;
    private static final long F32_BYTES = 4L * N * K;

    /** One round's results: each case's median time in seconds and weight bytes, numpy's f32 time per shape. */
    private static final class Round {
        final List<CaseResult> results = new ArrayList<>();
        final Map<String, Double> numpy = new LinkedHashMap<>();

        Round numpy(int m, int n, int k, double seconds) {
            numpy.put(Numpy.key(m, n, k), seconds);
            return this;
        }

        Round add(BenchCase c, long weightBytes, double seconds) {
            Double np = numpy.get(Numpy.key(c.m(), c.n(), c.k()));
            results.add(new CaseResult(c, weightBytes, timing(seconds), np == null ? null : timing(np), roof()));
            return this;
        }

        Round gemv(WeightFormat f, long weightBytes, double seconds) {
            return add(BenchCase.linear(f, 1, N, K), weightBytes, seconds);
        }
    }

    private static Timing timing(double seconds) {
        return new Timing(seconds, seconds * 0.98, seconds * 1.05, 10, 0);
    }

    private static MachineProbe.Roofline roof() {
        return new MachineProbe.Roofline(200, 30, 16, ReadProbe.of(2, 1L << 30));
    }

    private static Targets.Verdict verdict(List<Targets.Verdict> verdicts, String nameStart) {
        return verdicts.stream().filter(v -> v.name().startsWith(nameStart)).findFirst()
                .orElseThrow(() -> new AssertionError("no target " + nameStart + " in " + verdicts));
    }

    /** A round in which numpy's f32 GEMV takes 40 ms, its GEMM M=512 68 ms and M=16 11.7 ms. */
    private static Round round() {
        return new Round().numpy(1, N, K, 0.040).numpy(512, NK, NK, 0.068).numpy(16, NK, NK, 0.0117);
    }

    @Test
    void gemvTargetsCompareWeightBytesPerSecondWithNumpysF32Gemv() {
        Round r = round()
                .gemv(WeightFormat.F32, F32_BYTES, 0.042)                     // 40 / 42 = 0.952 of numpy: >= 0.95
                .gemv(WeightFormat.BF16, F32_BYTES / 2, 0.022)                // half the bytes in 22 ms: 0.909 >= 0.9
                .gemv(WeightFormat.F16, F32_BYTES / 2, 0.023)                 // 0.870 < 0.9
                .gemv(WeightFormat.FP8, (long) N * K + 4L * N, 0.012)         // 0.834 < 0.85
                .gemv(WeightFormat.GPTQ_INT4, (long) (0.5625 * N * K), 0.007); // 0.804 >= 0.8
        List<Targets.Verdict> v = Targets.evaluate(List.of(r.results));
        assertEquals(0.040 / 0.042, verdict(v, "f32 GEMV M=1").median(), 1e-12);
        assertEquals(0.040 / (2 * 0.022), verdict(v, "bf16 GEMV M=1").median(), 1e-12);
        assertEquals(0.040 / (2 * 0.023), verdict(v, "f16 GEMV M=1").median(), 1e-12);
        assertEquals((N * (double) K + 4.0 * N) / 0.012 / (4.0 * N * K / 0.040), verdict(v, "fp8-e4m3 GEMV M=1").median(), 1e-12);
        assertEquals(0.5625 * 0.040 / (4 * 0.007), verdict(v, "gptq-int4-g128 GEMV M=1").median(), 1e-6);
        assertEquals(List.of("PASS", "PASS", "FAIL", "FAIL", "PASS"), List.of(verdict(v, "f32 GEMV M=1").status(),
                verdict(v, "bf16 GEMV M=1").status(), verdict(v, "f16 GEMV M=1").status(), verdict(v, "fp8-e4m3 GEMV M=1").status(),
                verdict(v, "gptq-int4-g128 GEMV M=1").status()));
        assertEquals(List.of(0.95, 0.9, 0.9, 0.85, 0.8), List.of(verdict(v, "f32 GEMV M=1").bound(), verdict(v, "bf16 GEMV M=1").bound(),
                verdict(v, "f16 GEMV M=1").bound(), verdict(v, "fp8-e4m3 GEMV M=1").bound(), verdict(v, "gptq-int4-g128 GEMV M=1").bound()));
    }

    @Test
    void gemmTargetsCompareF32WithNumpyAndQuantisedWithOurF32() {
        Round r = round()
                .add(BenchCase.linear(WeightFormat.F32, 512, NK, NK), 4L * NK * NK, 0.075)  // 68 / 75 = 0.907 >= 0.9
                .add(BenchCase.linear(WeightFormat.F32, 16, NK, NK), 4L * NK * NK, 0.0070)  // 11.7 / 7 = 1.67 < 1.7
                .add(BenchCase.linear(WeightFormat.GPTQ_INT4, 512, NK, NK), NK * NK / 2, 0.074) // 75 / 74 >= 1
                .add(BenchCase.linear(WeightFormat.FP8, 512, NK, NK), (long) NK * NK, 0.080);   // 75 / 80 < 1
        List<Targets.Verdict> v = Targets.evaluate(List.of(r.results));
        Targets.Verdict m512 = verdict(v, "f32 GEMM M=512");
        Targets.Verdict m16 = verdict(v, "f32 GEMM M=16");
        Targets.Verdict gptq = verdict(v, "gptq-int4-g128 GEMM M=512");
        Targets.Verdict fp8 = verdict(v, "fp8-e4m3 GEMM M=512");
        assertEquals(0.068 / 0.075, m512.median(), 1e-12);
        assertEquals(0.0117 / 0.0070, m16.median(), 1e-12);
        assertEquals(0.075 / 0.074, gptq.median(), 1e-12);
        assertEquals(0.075 / 0.080, fp8.median(), 1e-12);
        assertEquals(List.of(0.9, 1.7, 1.0, 1.0), List.of(m512.bound(), m16.bound(), gptq.bound(), fp8.bound()));
        assertEquals(List.of("PASS", "FAIL", "PASS", "FAIL"), List.of(m512.status(), m16.status(), gptq.status(), fp8.status()));
    }

    @Test
    void smallQuantisedGemvsMayTakeAtMostTwiceTheF32Gemv() {
        int n = Targets.SMALL_N;
        Round r = round()
                .add(BenchCase.linear(WeightFormat.F32, 1, n, K), 4L * n * K, 4e-6)
                .add(BenchCase.linear(WeightFormat.FP8, 1, n, K), (long) n * K, 8e-6)        // 2x: at the bound
                .add(BenchCase.linear(WeightFormat.GPTQ_INT4, 1, n, K), n * K / 2, 9e-6);   // 2.25x
        List<Targets.Verdict> v = Targets.evaluate(List.of(r.results));
        Targets.Verdict fp8 = verdict(v, "fp8-e4m3 GEMV M=1 N=8 ");
        Targets.Verdict gptq = verdict(v, "gptq-int4-g128 GEMV M=1 N=8 ");
        assertEquals(2.0, fp8.median(), 1e-12);
        assertEquals(2.25, gptq.median(), 1e-12);
        assertTrue(fp8.atMost() && fp8.bound() == 2.0, fp8.toString());
        assertEquals(List.of("PASS", "FAIL"), List.of(fp8.status(), gptq.status()));
        // The large GEMVs' targets do not take the small cases.
        assertEquals("SKIP", verdict(v, "fp8-e4m3 GEMV M=1 N=32768").status());
    }

    @Test
    void eachFormatAmongTheOthersMustStayWithinTenPercentOfItsTimeAlone() {
        Round r = round()
                .gemv(WeightFormat.F32, F32_BYTES, 0.042)
                .gemv(WeightFormat.FP8, (long) N * K, 0.012)
                .add(BenchCase.mixed(WeightFormat.F32, 1, N, K), F32_BYTES, 0.044)      // 1.05x alone
                .add(BenchCase.mixed(WeightFormat.FP8, 1, N, K), (long) N * K, 0.030);  // 2.5x: boxed vectors
        List<Targets.Verdict> v = Targets.evaluate(List.of(r.results));
        Targets.Verdict f32 = verdict(v, "f32 GEMV among");
        Targets.Verdict fp8 = verdict(v, "fp8-e4m3 GEMV among");
        assertEquals(0.044 / 0.042, f32.median(), 1e-12);
        assertEquals(0.030 / 0.012, fp8.median(), 1e-12);
        assertTrue(f32.atMost() && f32.bound() == 1.10, f32.toString());
        assertEquals("PASS", f32.status());
        assertEquals("FAIL", fp8.status());
        // The mixed f32 row is not taken for the f32 GEMV's own target, nor the other way round.
        assertEquals(0.040 / 0.042, verdict(v, "f32 GEMV M=1").median(), 1e-12);
        Targets.Verdict bf16 = verdict(v, "bf16 GEMV among");
        assertEquals("SKIP", bf16.status());
        assertTrue(bf16.note().contains("not --in-process"), bf16.note());
    }

    @Test
    void aBoundIsMetWhenTheMedianReachesItExactly() {
        assertTrue(new Targets.Verdict("t", 0.9, false, 0.9, 0.8, 1.0, 3, "").met());
        assertFalse(new Targets.Verdict("t", 0.9, false, Math.nextDown(0.9), 0.8, 1.0, 3, "").met());
        assertTrue(new Targets.Verdict("t", 1.1, true, 1.1, 1.0, 1.2, 3, "").met());
        assertFalse(new Targets.Verdict("t", 1.1, true, Math.nextUp(1.1), 1.0, 1.2, 3, "").met());
        Targets.Verdict none = new Targets.Verdict("t", 1.1, true, Double.NaN, Double.NaN, Double.NaN, 0, "why");
        assertFalse(none.met());
        assertEquals("SKIP", none.status());
    }

    @Test
    void theVerdictIsTheMedianOfThePerRoundRatiosWithTheirLeastAndMost() {
        // numpy 40 ms in every round; ours 33.3, 44.4 and 40 ms: ratios 1.2, 0.9 and 1.0.
        List<List<CaseResult>> rounds = List.of(
                round().gemv(WeightFormat.F32, F32_BYTES, 0.040 / 1.2).results,
                round().gemv(WeightFormat.F32, F32_BYTES, 0.040 / 0.9).results,
                round().gemv(WeightFormat.F32, F32_BYTES, 0.040).results);
        Targets.Verdict v = verdict(Targets.evaluate(rounds), "f32 GEMV M=1");
        assertEquals(1.0, v.median(), 1e-12);
        assertEquals(0.9, v.min(), 1e-12);
        assertEquals(1.2, v.max(), 1e-12);
        assertEquals(3, v.rounds());
        assertEquals("PASS", v.status());
        assertEquals("", v.note());

        // Each round is compared with its own numpy: a slow round on both sides is not a slow ratio.
        List<List<CaseResult>> slowMachine = List.of(
                round().gemv(WeightFormat.F32, F32_BYTES, 0.040).results,
                new Round().numpy(1, N, K, 0.080).gemv(WeightFormat.F32, F32_BYTES, 0.080).results);
        Targets.Verdict both = verdict(Targets.evaluate(slowMachine), "f32 GEMV M=1");
        assertEquals(1.0, both.min(), 1e-12);
        assertEquals(1.0, both.max(), 1e-12);
    }

    @Test
    void roundsWithoutNumpyAreLeftOutAndSaidSo() {
        List<List<CaseResult>> rounds = List.of(
                round().gemv(WeightFormat.F32, F32_BYTES, 0.050).results,
                new Round().gemv(WeightFormat.F32, F32_BYTES, 0.040).results,
                round().gemv(WeightFormat.F32, F32_BYTES, 0.040).results);
        Targets.Verdict v = verdict(Targets.evaluate(rounds), "f32 GEMV M=1");
        assertEquals(2, v.rounds());
        assertEquals((0.8 + 1.0) / 2, v.median(), 1e-12, "two rounds: the mean of the two");
        assertEquals("measured in 2 of 3 rounds", v.note());

        Targets.Verdict noNumpy = verdict(Targets.evaluate(List.of(new Round().gemv(WeightFormat.F32, F32_BYTES, 0.04).results)),
                "f32 GEMV M=1");
        assertEquals("SKIP", noNumpy.status());
        assertEquals("no numpy in this run", noNumpy.note());
        Targets.Verdict notRun = verdict(Targets.evaluate(List.of(round().results)), "fp8-e4m3 GEMV M=1");
        assertEquals("SKIP", notRun.status());
        assertEquals("not run in this suite or on this device", notRun.note());
    }

    @Test
    void theTargetsSuiteRunsEveryCaseTheTargetsNeed() {
        Round r = round();
        for (BenchCase c : Suite.TARGETS.cases()) {
            r.add(c, c.weightElements(), 0.01);
        }
        List<Targets.Verdict> v = Targets.evaluate(List.of(r.results));
        assertEquals(16, v.size(), "5 GEMVs vs numpy, 2 f32 GEMMs vs numpy, 2 quantised GEMMs vs ours, 2 small quantised"
                + " GEMVs vs ours, 5 mixed: " + v);
        for (Targets.Verdict each : v) {
            assertTrue(each.measured(), each.toString());
        }
        assertTrue(Suite.TARGETS.cases().stream().noneMatch(BenchCase::isMlp), "the MLP bound was an old target");
    }

    @Test
    void theTargetsPrintAsPassOrFailWithTheirSpreadOverTheRounds() {
        List<Targets.Verdict> verdicts = List.of(
                new Targets.Verdict("fp8 GEMV", 0.85, false, 0.83, 0.80, 0.88, 3, ""),
                new Targets.Verdict("f32 GEMV among", 1.10, true, 1.02, 0.99, 1.04, 3, ""),
                new Targets.Verdict("gptq GEMM", 1.0, false, Double.NaN, Double.NaN, Double.NaN, 0, "not run in this suite"));
        StringWriter text = new StringWriter();
        Report.printTargets(new PrintWriter(text, true), verdicts, 3);
        List<String> lines = text.toString().lines().toList();
        assertTrue(lines.get(1).startsWith("targets (each ratio taken within a round"), text.toString());
        assertTrue(lines.get(2).matches("  FAIL  fp8 GEMV +0\\.83x  \\(>= 0\\.85x\\)  min-max 0\\.80-0\\.88 over 3 rounds"), lines.get(2));
        assertTrue(lines.get(3).matches("  PASS  f32 GEMV among +1\\.02x  \\(<= 1\\.10x\\)  min-max 0\\.99-1\\.04 over 3 rounds"), lines.get(3));
        assertTrue(lines.get(4).matches("  SKIP  gptq GEMM +n/a  \\(>= 1\\.00x\\)  not run in this suite"), lines.get(4));
        assertEquals("1 of 3 targets met (2 measured)", lines.get(5));

        StringWriter one = new StringWriter();
        Report.printTargets(new PrintWriter(one, true), List.of(new Targets.Verdict("t", 1, false, 1.2, 1.2, 1.2, 1, "")), 1);
        assertTrue(one.toString().contains("targets (each ratio from cases timed in this run):"), one.toString());
        assertFalse(one.toString().contains("min-max"), "one round has no spread to show: " + one);
    }
}

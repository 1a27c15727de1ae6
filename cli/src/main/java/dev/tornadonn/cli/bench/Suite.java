package dev.tornadonn.cli.bench;

import dev.tornadonn.core.ConfigException;
import static dev.tornadonn.cli.bench.WeightFormat.BF16;
import static dev.tornadonn.cli.bench.WeightFormat.F16;
import static dev.tornadonn.cli.bench.WeightFormat.F32;
import static dev.tornadonn.cli.bench.WeightFormat.FP8;
import static dev.tornadonn.cli.bench.WeightFormat.GPTQ_INT4;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The named case lists, with the repeat count and per-case time budget each defaults to. */
public enum Suite {
    /** Small shapes, a few seconds in all: for tests and CI; every kind of case once. */
    QUICK(5, 0.3, List.of(
            BenchCase.linear(F32, 16, 512, 512),
            BenchCase.linear(GPTQ_INT4, 16, 512, 512),
            BenchCase.linear(F32, 1, 1024, 512),
            BenchCase.linear(BF16, 1, 1024, 512),
            BenchCase.linear(F16, 1, 1024, 512),
            BenchCase.linear(FP8, 1, 1024, 512),
            BenchCase.linear(GPTQ_INT4, 1, 1024, 512),
            BenchCase.mixed(F32, 1, 1024, 512),
            BenchCase.mixed(FP8, 1, 1024, 512),
            BenchCase.mixed(GPTQ_INT4, 1, 1024, 512),
            BenchCase.mlp(BF16, 1, 256, 688))),
    /** The f32 GEMM shapes of the performance targets, with bf16/f16 weights beside them. */
    GEMM(10, 5, List.of(
            BenchCase.linear(F32, 512, 4096, 4096),
            BenchCase.linear(BF16, 512, 4096, 4096),
            BenchCase.linear(F16, 512, 4096, 4096),
            BenchCase.linear(F32, 16, 4096, 4096),
            BenchCase.linear(F32, 1, 4096, 4096))),
    /**
     * Every case the performance targets name ({@link Targets}): the GEMV of each format at
     * 32768 × 8192 (1 GiB of f32), the GEMMs, the small GEMVs (8 × 8192), and the five GEMVs again
     * loaded together in one JVM.
     */
    TARGETS(10, 5, targetCases());

    private final int repeat;
    private final double budgetS;
    private final List<BenchCase> cases;

    Suite(int repeat, double budgetS, List<BenchCase> cases) {
        this.repeat = repeat;
        this.budgetS = budgetS;
        this.cases = cases;
    }

    public int repeat() {
        return repeat;
    }

    public double budgetS() {
        return budgetS;
    }

    /**
     * Rounds of the whole case list: the targets compare cases timed tens of seconds apart, on a
     * machine whose memory bandwidth its neighbours move by half, so their ratios take the median
     * over three rounds.
     */
    public int rounds() {
        return this == TARGETS ? 3 : 1;
    }

    public List<BenchCase> cases() {
        return cases;
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    private static List<BenchCase> targetCases() {
        List<BenchCase> cases = new ArrayList<>();
        int nk = Targets.GEMM_NK;
        cases.add(BenchCase.linear(F32, Targets.GEMM_M, nk, nk));
        cases.add(BenchCase.linear(GPTQ_INT4, Targets.GEMM_M, nk, nk));
        cases.add(BenchCase.linear(FP8, Targets.GEMM_M, nk, nk));
        cases.add(BenchCase.linear(F32, Targets.SMALL_M, nk, nk));
        for (WeightFormat f : List.of(F32, FP8, GPTQ_INT4)) {
            cases.add(BenchCase.linear(f, 1, Targets.SMALL_N, Targets.GEMV_K));
        }
        for (WeightFormat f : WeightFormat.values()) {
            cases.add(BenchCase.linear(f, 1, Targets.GEMV_N, Targets.GEMV_K));
        }
        for (WeightFormat f : WeightFormat.values()) {
            cases.add(BenchCase.mixed(f, 1, Targets.GEMV_N, Targets.GEMV_K));
        }
        return List.copyOf(cases);
    }

    public static Suite parse(String name) {
        for (Suite s : values()) {
            if (s.label().equals(name.toLowerCase(Locale.ROOT))) {
                return s;
            }
        }
        throw new ConfigException("unknown suite '" + name + "'; valid: quick, gemm, targets");
    }
}

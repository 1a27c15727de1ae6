package dev.tornadonn.cli.bench;

import java.util.List;

/**
 * Several layers loaded in one JVM and timed there, as a model whose layers mix weight formats
 * runs them. In a JVM that has run other Vector API kernels, C2 has compiled the next one with its
 * vectors boxed (2-5× slower; docs/PERFORMANCE.md, "Boxed vectors"), which a case alone in its JVM
 * never meets: each layer's time here, over its time alone, says whether the mix costs anything.
 */
final class MixedRun {
    private MixedRun() {}

    /**
     * Runs every op in turn until the JIT is quiet, so that each kernel is compiled, and any
     * recompiled, in a JVM that has run all the others; then times each op as {@link Timing#measure}
     * times it alone, a block of its own calls: its weights meet the caches as they do alone, so
     * the compiled code is what differs.
     */
    static List<Timing> measure(List<Runnable> ops, int repeat, double budgetS) {
        Timing.warmUp(() -> ops.forEach(Runnable::run), budgetS);
        return ops.stream().map(op -> Timing.measure(op, repeat, budgetS)).toList();
    }
}

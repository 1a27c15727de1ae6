package dev.tornadonn.cli.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Measures this machine's roofline: the f32 FMA rate of a Vector API loop with many independent
 * accumulators on every core, and the read bandwidth of a large off-heap array summed with vectors
 * on every core. Best of a few passes, since a busy neighbour can only make a pass slower.
 */
public final class MachineProbe {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private MachineProbe() {}

    /** The machine's limits: f32 FMA peak in GFLOP/s and read bandwidth in GB/s (10⁹ bytes). */
    public record Roofline(double peakGflops, double bandwidthGBs, int threads, int lanes, long probeBytes) {
        /** Flops per byte where the two ceilings meet. */
        public double ridge() {
            return peakGflops / bandwidthGBs;
        }

        /** The attainable GFLOP/s at an arithmetic intensity: min(peak, intensity × bandwidth). */
        public double attainable(double flopsPerByte) {
            return Math.min(peakGflops, flopsPerByte * bandwidthGBs);
        }
    }

    /** Runs both probes with {@code threads} threads over a {@code bytes}-byte array. */
    public static Roofline measure(int threads, long bytes) {
        return new Roofline(peakFmaGflops(threads), readBandwidthGBs(threads, bytes), threads, S.length(), bytes);
    }

    /** f32 GFLOP/s of independent FMA chains: enough chains to cover the FMA latency on both ports. */
    public static double peakFmaGflops(int threads) {
        long iters = 20_000_000; // ~0.1 s a pass on one AVX-512 core: thread start-up is noise next to it
        warmUp(() -> fmaLoop(20_000));
        double best = 0;
        for (int pass = 0; pass < 5; pass++) {
            long t0 = System.nanoTime();
            onAllThreads(threads, t -> fmaLoop(iters));
            double s = (System.nanoTime() - t0) / 1e9;
            best = Math.max(best, threads * iters * 12.0 * S.length() * 2 / s / 1e9);
        }
        return best;
    }

    /** 12 accumulators: two FMA ports × four cycles of latency need at least 8 in flight. */
    private static float fmaLoop(long iters) {
        FloatVector a = FloatVector.broadcast(S, 0.999f);
        FloatVector b = FloatVector.broadcast(S, 1e-6f);
        FloatVector c0 = FloatVector.broadcast(S, 1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
        FloatVector c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (long i = 0; i < iters; i++) {
            c0 = c0.fma(a, b); c1 = c1.fma(a, b); c2 = c2.fma(a, b); c3 = c3.fma(a, b);
            c4 = c4.fma(a, b); c5 = c5.fma(a, b); c6 = c6.fma(a, b); c7 = c7.fma(a, b);
            c8 = c8.fma(a, b); c9 = c9.fma(a, b); c10 = c10.fma(a, b); c11 = c11.fma(a, b);
        }
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11)
                .reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
    }

    /** GB/s of reading {@code bytes} of off-heap floats once, each thread summing its own slice. */
    public static double readBandwidthGBs(int threads, long bytes) {
        long perThread = bytes / threads / S.vectorByteSize() * S.vectorByteSize();
        try (Arena arena = Arena.ofShared()) {
            MemorySegment data = arena.allocate(perThread * threads, 64);
            data.fill((byte) 1); // touch every page, so the timed passes do not measure page faults
            MemorySegment small = data.asSlice(0, Math.min(perThread, 1 << 16));
            warmUp(() -> sum(small));
            double best = 0;
            for (int pass = 0; pass < 5; pass++) {
                long t0 = System.nanoTime();
                onAllThreads(threads, t -> sum(data.asSlice(t * perThread, perThread)));
                double s = (System.nanoTime() - t0) / 1e9;
                best = Math.max(best, perThread * threads / s / 1e9);
            }
            return best;
        }
    }

    /** Four accumulators, so the adds do not serialise and the loads stay the limit. */
    private static float sum(MemorySegment s) {
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        long step = S.vectorByteSize();
        long end = s.byteSize() / (4 * step) * (4 * step);
        for (long off = 0; off < end; off += 4 * step) {
            a0 = a0.add(FloatVector.fromMemorySegment(S, s, off, ByteOrder.nativeOrder()));
            a1 = a1.add(FloatVector.fromMemorySegment(S, s, off + step, ByteOrder.nativeOrder()));
            a2 = a2.add(FloatVector.fromMemorySegment(S, s, off + 2 * step, ByteOrder.nativeOrder()));
            a3 = a3.add(FloatVector.fromMemorySegment(S, s, off + 3 * step, ByteOrder.nativeOrder()));
        }
        return a0.add(a1).add(a2).add(a3).reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
    }

    /**
     * Calls a small {@code task} until C2 has compiled it (a call under 1 ms), at most 200 times:
     * the Vector API is only fast once compiled, and a long first call would stay in slow OSR code.
     */
    private static void warmUp(Callable<Float> task) {
        try {
            for (int i = 0; i < 200; i++) {
                long t0 = System.nanoTime();
                task.call();
                if (i >= 5 && System.nanoTime() - t0 < 1_000_000) {
                    return;
                }
            }
        } catch (Exception e) {
            throw new IllegalStateException("machine probe warm-up failed: " + e, e);
        }
    }

    /** Runs {@code task(t)} on {@code threads} platform threads at once and waits for all; the sums are kept live. */
    private static void onAllThreads(int threads, java.util.function.IntFunction<Float> task) {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<Float>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                futures.add(pool.submit(() -> task.apply(id)));
            }
            float sink = 0;
            for (Future<Float> f : futures) {
                sink += f.get();
            }
            if (sink == 42.4242f) {
                System.err.print(""); // never true in practice; stops the JIT from dropping the loops
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while probing the machine", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("machine probe failed: " + e.getCause(), e.getCause());
        } finally {
            pool.shutdown();
        }
    }
}

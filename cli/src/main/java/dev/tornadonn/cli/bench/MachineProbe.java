package dev.tornadonn.cli.bench;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntToDoubleFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Measures this machine's roofline: the f32 FMA rate of a Vector API loop with many independent
 * accumulators on every core, and the read bandwidth of a large off-heap array read as the GEMV
 * kernels read their weights ({@link ReadProbe}). Best of a few passes, since a busy neighbour can
 * only make a pass slower.
 */
public final class MachineProbe {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private MachineProbe() {}

    /** The machine's limits: f32 FMA peak in GFLOP/s and read bandwidth in GB/s (10⁹ bytes), and how the bandwidth was read. */
    public record Roofline(double peakGflops, double bandwidthGBs, int lanes, ReadProbe probe) {
        /** Flops per byte where the two ceilings meet. */
        public double ridge() {
            return peakGflops / bandwidthGBs;
        }

        /** The attainable GFLOP/s at an arithmetic intensity: min(peak, intensity × bandwidth). */
        public double attainable(double flopsPerByte) {
            return Math.min(peakGflops, flopsPerByte * bandwidthGBs);
        }

        public int threads() {
            return probe.threads();
        }
    }

    /** Runs both probes, the FMA loop on as many threads as {@code probe} reads with. */
    public static Roofline measure(ReadProbe probe) {
        return new Roofline(peakFmaGflops(probe.threads()), probe.measureGBs(), S.length(), probe);
    }

    /** The vector lanes of an f32 FMA on this machine. */
    public static int lanes() {
        return S.length();
    }

    /**
     * The size of the largest cache the first CPU reads through, from Linux's sysfs; empty
     * elsewhere. The read probe's array must be far larger, or it measures that cache.
     */
    public static OptionalLong lastLevelCacheBytes() {
        Path dir = Path.of("/sys/devices/system/cpu/cpu0/cache");
        long largest = -1;
        try (DirectoryStream<Path> levels = Files.newDirectoryStream(dir, "index*")) {
            for (Path level : levels) {
                Path size = level.resolve("size");
                if (Files.isReadable(size)) {
                    largest = Math.max(largest, cacheSize(Files.readString(size)));
                }
            }
        } catch (IOException | RuntimeException e) {
            return OptionalLong.empty();
        }
        return largest > 0 ? OptionalLong.of(largest) : OptionalLong.empty();
    }

    /** sysfs's cache size, e.g. {@code 32768K} or {@code 300M}, in bytes; -1 when it reads otherwise. */
    static long cacheSize(String text) {
        Matcher m = CACHE_SIZE.matcher(text.strip());
        if (!m.matches()) {
            return -1;
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2).toUpperCase(java.util.Locale.ROOT)) {
            case "K" -> n << 10;
            case "M" -> n << 20;
            case "G" -> n << 30;
            default -> n;
        };
    }

    private static final Pattern CACHE_SIZE = Pattern.compile("(\\d{1,12})([KkMmGg]?)");

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

    /**
     * Calls a small {@code task} until C2 has compiled it (a call under 1 ms), at most 200 times:
     * the Vector API is only fast once compiled, and a long first call would stay in slow OSR code.
     */
    static void warmUp(Callable<?> task) {
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

    /**
     * Runs {@code task(t)} on {@code threads} platform threads at once, waits for all, and returns
     * the sum of what they return: each task's result leaves its thread, so the JIT cannot drop its loop.
     */
    static double onAllThreads(int threads, IntToDoubleFunction task) {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<Double>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                futures.add(pool.submit(() -> task.applyAsDouble(id)));
            }
            double sum = 0;
            for (Future<Double> f : futures) {
                sum += f.get();
            }
            return sum;
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

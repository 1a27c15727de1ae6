package dev.tornadonn.jvm;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tornadonn.core.Activation;
import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.backend.PreparedMatrix;
import dev.tornadonn.core.io.GgmlType;
import dev.tornadonn.core.numeric.Float8Format;
import dev.tornadonn.core.weights.DenseMatrix;
import dev.tornadonn.core.weights.Fp8InputQuantization;
import dev.tornadonn.core.weights.Fp8Matrix;
import dev.tornadonn.core.weights.Fp8WeightScale;
import dev.tornadonn.core.weights.GgufMatrix;
import dev.tornadonn.core.weights.Int8InputQuantization;
import dev.tornadonn.core.weights.Int8Matrix;
import dev.tornadonn.core.weights.Int8WeightScale;
import dev.tornadonn.core.weights.GroupQuantizedMatrix;
import dev.tornadonn.core.weights.WeightMatrix;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * A steady-state forward allocates no heap, whatever the weight format, with every format loaded
 * into one JVM and run in turn as a model mixes them. A vector the JIT failed to keep in
 * registers (boxed), a lambda, a task object or a per-call array shows up here as bytes.
 *
 * <p>Allocation is counted by the JVM per thread ({@code ThreadMXBean#getThreadAllocatedBytes},
 * exact to the byte), summed over the calling thread and the kernels' worker threads. Until C2 has
 * compiled a kernel, the interpreter and C1 box every vector, so the formats are first run round
 * after round, each round followed by a pause while the JIT compiles what the round made hot (on
 * a loaded machine its threads would otherwise starve behind the interpreted warm-up), until one
 * whole round allocates nothing or the warm-up budget runs out, which fails. Then every format
 * must stay at zero for {@value #CHECKED_ROUNDS} more rounds, or, where a one-off allocated (see
 * below), for {@value #CHECKED_ROUNDS} rounds after that. No byte of slack.
 */
class SteadyStateAllocationTest {
    private static final long SEED = System.nanoTime();
    private static final DeviceRef CPU = DeviceRef.cpu(0);
    /** Input features: a GGUF super-block, two GPTQ groups of 128, two fp8 128-column blocks. */
    private static final int K = 256;
    /** Output features: not a multiple of any kernel's row block, so every short last block runs. */
    private static final int N = 67;
    /** GEMV, the decode-a-row paths (and dense's few-rows GEMM), and the packed GEMM (over 48 rows). */
    private static final int[] ROWS = {1, 8, 49};
    private static final long WARM_UP_NANOS = 60_000_000_000L;
    /** Forwards of each allocating case per warm-up round: enough to cross the JIT's thresholds in a few rounds. */
    private static final int WARM_UP_REPEATS = 10;
    private static final int CHECKED_ROUNDS = 5;

    static {
        System.out.println("SteadyStateAllocationTest seed " + SEED);
    }

    /** One forward of one weight at one row count, with its x and y allocated once. */
    private record Forward(String name, Runnable run) {}

    @Test
    void everyFormatForwardsWithoutAllocatingOnceCompiled() {
        java.lang.management.ThreadMXBean plain = ManagementFactory.getThreadMXBean();
        assumeTrue(plain instanceof com.sun.management.ThreadMXBean, "this JVM has no per-thread allocation counter");
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) plain;
        assumeTrue(threads.isThreadAllocatedMemorySupported(), "this JVM has no per-thread allocation counter");
        threads.setThreadAllocatedMemoryEnabled(true);

        JvmBackend backend = new JvmBackend();
        SplittableRandom rnd = new SplittableRandom(SEED);
        List<Forward> forwards = new ArrayList<>();
        for (Format f : formats(rnd)) {
            PreparedMatrix w = backend.prepare(f.blocks(), f.bias(), CPU);
            for (int m : ROWS) {
                Tensor x = input(m, K, rnd);
                Tensor y = Tensor.allocate(DType.F32, Shape.of(m, N));
                forwards.add(new Forward(f.name() + " m=" + m, () -> backend.linear(x, w, y)));
            }
        }
        // The gated MLP as one call: gate and up stacked into one weight, the activation, down.
        for (DType dtype : List.of(DType.BF16, DType.F16)) {
            PreparedMatrix gateUp = backend.prepare(List.of(dense(dtype, N, K, rnd), dense(dtype, N, K, rnd)), null, CPU);
            PreparedMatrix down = backend.prepare(List.of(dense(dtype, K, N, rnd)), null, CPU);
            for (int m : ROWS) {
                Tensor x = input(m, K, rnd);
                Tensor y = Tensor.allocate(DType.F32, Shape.of(m, K));
                forwards.add(new Forward("gated mlp " + dtype + " m=" + m,
                        () -> backend.gatedMlp(Activation.SILU, x, gateUp, down, y)));
            }
        }

        long[] bytes = new long[forwards.size()];
        long start = System.nanoTime();
        long deadline = start + WARM_UP_NANOS;
        int rounds = 0;
        StringBuilder roundMillis = new StringBuilder();
        while (true) {
            long roundStart = System.nanoTime();
            round(forwards, threads, bytes);
            rounds++;
            roundMillis.append(roundMillis.isEmpty() ? "" : ", ").append((System.nanoTime() - roundStart) / 1_000_000)
                    .append(" [").append(java.util.Arrays.stream(bytes).filter(b -> b != 0).count()).append(']');
            if (sum(bytes) == 0 || System.nanoTime() > deadline) {
                break;
            }
            long repeats = System.nanoTime();
            for (int i = 0; i < bytes.length; i++) {
                for (int r = 0; bytes[i] != 0 && r < WARM_UP_REPEATS; r++) {
                    forwards.get(i).run().run();
                }
            }
            long pause = System.nanoTime();
            roundMillis.append(" +").append((pause - repeats) / 1_000_000);
            awaitQuietJit();
            roundMillis.append(" (+").append((System.nanoTime() - pause) / 1_000_000).append(')');
        }
        long[] last = bytes.clone();
        int warmRounds = rounds;
        long warmMillis = (System.nanoTime() - start) / 1_000_000;
        assertTrue(sum(last) == 0, () -> "still allocating after " + warmRounds + " warm-up rounds in " + warmMillis
                + " ms (" + roundsText(forwards, last));
        // Every forward a few more times before counting: each worker thread gets more chances to
        // have run each path, and so to have sized its working arrays for it.
        for (Forward f : forwards) {
            for (int r = 0; r < WARM_UP_REPEATS; r++) {
                f.run().run();
            }
        }
        long[] first = checkedRounds(forwards, threads);
        if (sum(first) != 0) {
            // Two one-offs that a steady state does not repeat: a deoptimisation (a compiled
            // method meeting a case its profile had not, and falling back to the interpreter)
            // rebuilds on the heap the vectors C2 had kept in registers, a hundred bytes or so;
            // and a thread running a path for the first time sizes its working arrays then (which
            // thread runs which task is the scheduler's choice: on a loaded machine a worker may
            // sit out a whole warm-up round). A per-call allocation repeats, so a forward fails
            // only if it allocates in both windows.
            System.out.println("SteadyStateAllocationTest: checking again after a one-off (" + roundsText(forwards, first));
            awaitQuietJit();
            long[] second = checkedRounds(forwards, threads);
            long[] both = new long[first.length];
            for (int i = 0; i < both.length; i++) {
                both[i] = first[i] != 0 && second[i] != 0 ? first[i] + second[i] : 0;
            }
            assertTrue(sum(both) == 0, () -> "allocated in two windows of " + CHECKED_ROUNDS + " rounds after " + warmRounds
                    + " warm-up rounds (" + roundsText(forwards, both));
        }
        System.out.println("SteadyStateAllocationTest: " + forwards.size() + " forwards at zero bytes after " + rounds
                + " warm-up rounds in " + warmMillis + " ms (rounds, and pauses for the JIT: " + roundMillis + " ms)");
    }

    /** The bytes of each forward over {@value #CHECKED_ROUNDS} rounds. */
    private static long[] checkedRounds(List<Forward> forwards, com.sun.management.ThreadMXBean threads) {
        long[] bytes = new long[forwards.size()];
        long[] total = new long[forwards.size()];
        for (int r = 0; r < CHECKED_ROUNDS; r++) {
            round(forwards, threads, bytes);
            for (int i = 0; i < bytes.length; i++) {
                total[i] += bytes[i];
            }
        }
        return total;
    }

    /** Waits (at most 3 s) until the JIT's total compilation time stops growing for 150 ms. */
    private static void awaitQuietJit() {
        java.lang.management.CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        if (jit == null || !jit.isCompilationTimeMonitoringSupported()) {
            return;
        }
        long until = System.nanoTime() + 3_000_000_000L;
        long seen = jit.getTotalCompilationTime();
        int quiet = 0;
        while (quiet < 3 && System.nanoTime() < until) {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            long now = jit.getTotalCompilationTime();
            quiet = now == seen ? quiet + 1 : 0;
            seen = now;
        }
    }

    /** Runs every forward once, in turn, recording the heap bytes each allocated on any thread. */
    private static void round(List<Forward> forwards, com.sun.management.ThreadMXBean threads, long[] bytes) {
        long[] workers = workerIds();
        for (int i = 0; i < forwards.size(); i++) {
            long workersBefore = allocated(threads, workers);
            long before = threads.getCurrentThreadAllocatedBytes();
            forwards.get(i).run().run();
            long after = threads.getCurrentThreadAllocatedBytes();
            bytes[i] = (after - before) + (allocated(threads, workers) - workersBefore);
        }
    }

    /** The kernels' worker threads, by the name {@link Parallel} gives them. */
    private static long[] workerIds() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("tornado-nn-jvm-"))
                .mapToLong(Thread::threadId).toArray();
    }

    private static long allocated(com.sun.management.ThreadMXBean threads, long[] ids) {
        long s = 0;
        for (long b : threads.getThreadAllocatedBytes(ids)) {
            s += Math.max(0, b); // -1: the thread has ended
        }
        return s;
    }

    private static long sum(long[] a) {
        long s = 0;
        for (long v : a) {
            s += v;
        }
        return s;
    }

    private static String roundsText(List<Forward> forwards, long[] bytes) {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] != 0) {
                lines.add(forwards.get(i).name() + ": " + bytes[i] + " B");
            }
        }
        return "seed " + SEED + "; bytes per forward, nonzero only):\n" + lines.stream().collect(Collectors.joining("\n"));
    }

    /** A weight format as the backend takes it: its row blocks (several: a stacked layout) and a bias or null. */
    private record Format(String name, List<WeightMatrix> blocks, Tensor bias) {}

    private static List<Format> formats(SplittableRandom rnd) {
        List<Format> out = new ArrayList<>();
        for (DType dtype : List.of(DType.F32, DType.BF16, DType.F16)) {
            out.add(new Format("dense " + dtype, List.of(dense(dtype, N, K, rnd)), bias(rnd)));
        }
        for (int bits : new int[] {2, 3, 4, 8}) {
            out.add(new Format("gptq int" + bits + " g128", List.of(gptq(bits, 128, false, N, rnd)), null));
        }
        out.add(new Format("gptq int4 g32", List.of(gptq(4, 32, false, N, rnd)), bias(rnd)));
        out.add(new Format("gptq int4 g128 act-order, two blocks", List.of(gptq(4, 128, true, 40, rnd),
                gptq(4, 128, true, N - 40, rnd)), bias(rnd)));
        Float8Format e4 = Float8Format.E4M3FN;
        out.add(fp8("fp8 static, per-tensor", e4, new Fp8InputQuantization.Static(e4, 0.01f),
                new Fp8WeightScale.PerTensor(0.02f), rnd));
        out.add(fp8("fp8 dynamic per tensor, per-row", e4, new Fp8InputQuantization.DynamicPerTensor(e4, Float.POSITIVE_INFINITY),
                new Fp8WeightScale.PerRow(scales(N, rnd)), rnd));
        out.add(fp8("fp8 weight-only (W8A16), per-row", e4, new Fp8InputQuantization.WeightOnly(),
                new Fp8WeightScale.PerRow(scales(N, rnd)), rnd));
        out.add(fp8("fp8 dynamic per token, per-row", e4, new Fp8InputQuantization.DynamicPerToken(e4, 1200f),
                new Fp8WeightScale.PerRow(scales(N, rnd)), rnd));
        out.add(fp8("fp8 dynamic 128-blocks, 128x128 blocks", e4, new Fp8InputQuantization.DynamicBlock(e4, 128,
                Float.POSITIVE_INFINITY), new Fp8WeightScale.Block(128, 128, scales((N + 127) / 128 * (K / 128), rnd)), rnd));
        Float8Format e5 = Float8Format.E5M2;
        out.add(fp8("fp8 e5m2 dynamic per token, per-row", e5, new Fp8InputQuantization.DynamicPerToken(e5,
                Float.POSITIVE_INFINITY), new Fp8WeightScale.PerRow(scales(N, rnd)), rnd));
        // Two static input scales cannot share a layout: stacked, each block into its own columns.
        out.add(new Format("fp8 static, two blocks", List.of(
                fp8Matrix(e4, 40, new Fp8InputQuantization.Static(e4, 0.01f), new Fp8WeightScale.PerTensor(0.02f), rnd),
                fp8Matrix(e4, N - 40, new Fp8InputQuantization.Static(e4, 0.03f), new Fp8WeightScale.PerTensor(0.01f), rnd)),
                bias(rnd)));
        for (GgmlType type : List.of(GgmlType.Q4_0, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q6_K)) {
            out.add(new Format("gguf " + type, List.of(gguf(type, rnd)), null));
        }
        out.add(int8("int8 static, per-tensor", new Int8InputQuantization.Static(0.02f), new Int8WeightScale.PerTensor(0.01f), rnd));
        out.add(int8("int8 static asymmetric, per-channel", new Int8InputQuantization.StaticAsymmetric(0.02f, -7),
                new Int8WeightScale.PerChannel(scales(N, rnd)), rnd));
        out.add(int8("int8 dynamic per token, per-channel", new Int8InputQuantization.DynamicPerToken(),
                new Int8WeightScale.PerChannel(scales(N, rnd)), rnd));
        out.add(int8("int8 dynamic per token asymmetric, per-channel", new Int8InputQuantization.DynamicPerTokenAsymmetric(),
                new Int8WeightScale.PerChannel(scales(N, rnd)), rnd));
        return out;
    }

    private static Tensor input(int m, int k, SplittableRandom rnd) {
        float[] v = new float[m * k];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return Tensor.of(v, m, k);
    }

    private static Tensor bias(SplittableRandom rnd) {
        float[] v = new float[N];
        for (int i = 0; i < N; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return Tensor.of(v, N);
    }

    private static float[] scales(int count, SplittableRandom rnd) {
        float[] s = new float[count];
        for (int i = 0; i < count; i++) {
            s[i] = (float) (0.01 + 0.01 * rnd.nextDouble());
        }
        return s;
    }

    /** Normal weights of standard deviation 1/√cols, as a trained checkpoint's (f16: about 0.4 % subnormal at 8192 columns). */
    private static DenseMatrix dense(DType dtype, int rows, int cols, SplittableRandom rnd) {
        float[] v = new float[rows * cols];
        double std = 1 / Math.sqrt(cols);
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (rnd.nextGaussian() * std);
        }
        return DenseMatrix.of(Tensor.of(dtype, Shape.of(rows, cols), v));
    }

    private static GroupQuantizedMatrix gptq(int bits, int groupSize, boolean actOrder, int rows, SplittableRandom rnd) {
        int groups = K / groupSize;
        byte[] codes = new byte[rows * K];
        for (int i = 0; i < codes.length; i++) {
            codes[i] = (byte) rnd.nextInt(1 << bits);
        }
        float[] zeros = new float[rows * groups];
        java.util.Arrays.fill(zeros, 1 << (bits - 1));
        int[] groupOf = new int[K];
        for (int k = 0; k < K; k++) {
            groupOf[k] = actOrder ? rnd.nextInt(groups) : k / groupSize;
        }
        return GroupQuantizedMatrix.pack(rows, K, bits, groups, codes, scales(rows * groups, rnd), zeros, groupOf);
    }

    private static Format fp8(String name, Float8Format f, Fp8InputQuantization in, Fp8WeightScale ws, SplittableRandom rnd) {
        return new Format(name, List.of(fp8Matrix(f, N, in, ws, rnd)), null);
    }

    private static Format int8(String name, Int8InputQuantization in, Int8WeightScale ws, SplittableRandom rnd) {
        byte[] codes = new byte[N * K];
        for (int i = 0; i < codes.length; i++) {
            codes[i] = (byte) rnd.nextInt(-128, 128);
        }
        return new Format(name, List.of(Int8Matrix.of(N, K, codes, ws, in)), bias(rnd));
    }

    /** Every code but NaN and infinity, subnormals included. */
    private static Fp8Matrix fp8Matrix(Float8Format f, int rows, Fp8InputQuantization in, Fp8WeightScale ws,
                                       SplittableRandom rnd) {
        int special = f == Float8Format.E4M3FN ? 0x7F : 0x7C;
        byte[] codes = new byte[rows * K];
        for (int i = 0; i < codes.length; i++) {
            int c;
            do {
                c = rnd.nextInt(256);
            } while ((c & special) == special);
            codes[i] = (byte) c;
        }
        return Fp8Matrix.of(rows, K, f, codes, ws, in);
    }

    /** Random blocks with their f16 scales set to small finite values. */
    private static GgufMatrix gguf(GgmlType type, SplittableRandom rnd) {
        int rowBytes = (int) type.rowBytes(K);
        Tensor blocks = Tensor.allocate(DType.U8, Shape.of(N, rowBytes));
        for (long i = 0; i < (long) N * rowBytes; i++) {
            blocks.data().set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) rnd.nextInt(256));
        }
        int[] scaleOffsets = switch (type) {
            case Q4_0, Q8_0 -> new int[] {0};
            case Q4_K -> new int[] {0, 2};
            default -> new int[] {208};
        };
        for (int r = 0; r < N; r++) {
            for (int b = 0; b < K / type.blockSize(); b++) {
                for (int at : scaleOffsets) {
                    long o = (long) r * rowBytes + (long) b * type.blockBytes() + at;
                    blocks.data().set(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, o,
                            Float.floatToFloat16((float) (0.001 + 0.01 * rnd.nextDouble())));
                }
            }
        }
        return new GgufMatrix(N, K, type, blocks);
    }
}

package dev.tornadonn.jvm;

import dev.tornadonn.core.ConfigException;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tornadonn.core.Activation;
import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.backend.Backend;
import dev.tornadonn.core.backend.DeviceInfo;
import dev.tornadonn.core.backend.PreparedMatrix;
import dev.tornadonn.core.weights.DenseMatrix;
import dev.tornadonn.core.weights.WeightMatrix;
import dev.tornadonn.reference.Oracle;
import dev.tornadonn.reference.RandomTensors;
import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

class JvmBackendTest {
    private final JvmBackend backend = new JvmBackend();

    /** The pom's vector-256 run names the width it asks the JVM for; the kernels must really get it. */
    @Test
    void vectorKernelsRunOnTheWidthTheTestRunAskedFor() {
        Integer asked = Integer.getInteger("tornadonn.test.vectorBits");
        int expected = asked != null ? asked : FloatVector.SPECIES_PREFERRED.vectorBitSize();
        assertEquals(expected, VectorKernels.F.vectorBitSize());
    }

    @Test
    void gatedActivationMatchesTheOracleForEveryActivation() {
        long seed = System.nanoTime();
        SplittableRandom rnd = new SplittableRandom(seed);
        int m = 9, f = 37;
        Tensor gu = RandomTensors.uniform(DType.F32, Shape.of(m, 2 * f), rnd);
        for (int i = 0; i < gu.numel(); i++) {
            gu.setFloat(i, gu.getFloat(i) * 12); // reach the activations' tails
        }
        for (Activation act : Activation.values()) {
            Tensor out = Tensor.allocate(DType.F32, Shape.of(m, f)).fill(Float.NaN);
            backend.gatedActivation(act, gu, out);
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < f; j++) {
                    double ref = Oracle.activate(act, gu.getFloat(i * 2L * f + j)) * gu.getFloat(i * 2L * f + f + j);
                    float got = out.getFloat((long) i * f + j);
                    assertEquals(ref, got, 2e-6 * Math.max(1, Math.abs(ref)), act + " seed " + seed + " at " + i + "," + j);
                }
            }
        }
    }

    /**
     * The one-call gated MLP gives, bit for bit, what the interface's default gives (the gate/up
     * linear into a tensor, the activation, the down linear), on the GEMV, few-rows and packed
     * paths, with a stacked gate/up of its own biases.
     */
    @Test
    void gatedMlpIsTheDefaultCompositionBitForBit() {
        long seed = System.nanoTime();
        SplittableRandom rnd = new SplittableRandom(seed);
        int h = 67, f = 45;
        Backend composed = new Backend() { // the interface's gatedMlp over this backend's parts
            public String name() {
                return "composed";
            }

            public boolean supports(DeviceRef device) {
                return backend.supports(device);
            }

            public Tensor copyTo(Tensor t, DeviceRef device) {
                return backend.copyTo(t, device);
            }

            public PreparedMatrix prepare(java.util.List<? extends WeightMatrix> rowBlocks, Tensor bias, DeviceRef device) {
                return backend.prepare(rowBlocks, bias, device);
            }

            public void linear(Tensor x, PreparedMatrix w, Tensor y) {
                backend.linear(x, w, y);
            }

            public void gatedActivation(Activation act, Tensor gateUp, Tensor out) {
                backend.gatedActivation(act, gateUp, out);
            }

            public java.util.List<DeviceInfo> devices() {
                return backend.devices();
            }
        };
        for (DType dtype : java.util.List.of(DType.BF16, DType.F16)) {
            PreparedMatrix gateUp = backend.prepare(java.util.List.of(DenseMatrix.of(RandomTensors.uniform(dtype, Shape.of(f, h), rnd)),
                    DenseMatrix.of(RandomTensors.uniform(dtype, Shape.of(f, h), rnd))),
                    RandomTensors.uniform(DType.F32, Shape.of(2 * f), rnd), DeviceRef.cpu(0));
            PreparedMatrix down = backend.prepare(java.util.List.of(DenseMatrix.of(RandomTensors.uniform(dtype, Shape.of(h, f), rnd))),
                    RandomTensors.uniform(DType.F32, Shape.of(h), rnd), DeviceRef.cpu(0));
            for (int m : new int[] {1, 3, 9, 64}) {
                Tensor x = RandomTensors.uniform(DType.F32, Shape.of(m, h), rnd);
                Tensor y = Tensor.allocate(DType.F32, Shape.of(m, h)).fill(Float.NaN);
                Tensor want = Tensor.allocate(DType.F32, Shape.of(m, h));
                backend.gatedMlp(Activation.SILU, x, gateUp, down, y);
                composed.gatedMlp(Activation.SILU, x, gateUp, down, want);
                org.junit.jupiter.api.Assertions.assertArrayEquals(want.toFloatArray(), y.toFloatArray(),
                        dtype + " m=" + m + " seed " + seed);
            }
            Tensor x = Tensor.allocate(DType.F32, Shape.of(2, h));
            ConfigException e = assertThrows(ConfigException.class,
                    () -> backend.gatedMlp(Activation.SILU, x, gateUp, down, Tensor.allocate(DType.F32, Shape.of(2, h + 1))));
            assertTrue(e.getMessage().contains("y must be (2, " + h + ")"), e.getMessage());
            assertThrows(ConfigException.class, () -> backend.gatedMlp(Activation.SILU, x, down, down,
                    Tensor.allocate(DType.F32, Shape.of(2, h))));
            assertThrows(ConfigException.class, () -> backend.gatedMlp(Activation.SILU, Tensor.allocate(DType.F32, Shape.of(2, f)),
                    gateUp, down, Tensor.allocate(DType.F32, Shape.of(2, h))));
        }
    }

    /**
     * Forwards from several threads at once on shared prepared weights, each thread with its own
     * scratch, give bit for bit what one thread alone gives: GEMVs, the decode-a-row paths and the
     * packed GEMM of dense, GPTQ and fp8 weights. Every value is a small integer, so every sum is
     * exact in any order (the Vector API leaves a float reduction's order open, and interpreted
     * and compiled code differ in it): any difference is one thread's work in another's output.
     */
    @Test
    void concurrentForwardsGiveWhatOneThreadGives() throws Exception {
        long seed = System.nanoTime();
        SplittableRandom rnd = new SplittableRandom(seed);
        int k = 256, n = 75;
        byte[] codes = new byte[n * k];
        byte[] fp8 = new byte[n * k];
        float[] dense = new float[n * k];
        for (int i = 0; i < codes.length; i++) {
            codes[i] = (byte) rnd.nextInt(16);
            fp8[i] = dev.tornadonn.core.numeric.Float8Format.E4M3FN.fromFloat(rnd.nextInt(17) - 8);
            dense[i] = rnd.nextInt(17) - 8;
        }
        float[] scales = new float[n * 2];
        java.util.Arrays.fill(scales, 1f);
        float[] zeros = new float[n * 2];
        java.util.Arrays.fill(zeros, 8f);
        int[] groupOf = new int[k];
        for (int c = 0; c < k; c++) {
            groupOf[c] = c / 128;
        }
        var e4m3 = dev.tornadonn.core.numeric.Float8Format.E4M3FN;
        java.util.List<PreparedMatrix> weights = java.util.List.of(
                backend.prepare(java.util.List.of(DenseMatrix.of(Tensor.of(DType.F16, Shape.of(n, k), dense))), null, DeviceRef.cpu(0)),
                backend.prepare(java.util.List.of(DenseMatrix.of(Tensor.of(DType.BF16, Shape.of(n, k), dense))), null, DeviceRef.cpu(0)),
                backend.prepare(java.util.List.of(dev.tornadonn.core.weights.GroupQuantizedMatrix.pack(n, k, 4, 2, codes, scales, zeros,
                        groupOf)), null, DeviceRef.cpu(0)),
                backend.prepare(java.util.List.of(dev.tornadonn.core.weights.Fp8Matrix.of(n, k, e4m3, fp8,
                        new dev.tornadonn.core.weights.Fp8WeightScale.PerTensor(1f),
                        new dev.tornadonn.core.weights.Fp8InputQuantization.Static(e4m3, 1f))), null, DeviceRef.cpu(0)));
        int[] rows = {1, 3, 8, 49};
        java.util.List<Tensor> inputs = new java.util.ArrayList<>();
        java.util.List<float[]> expected = new java.util.ArrayList<>();
        for (PreparedMatrix w : weights) {
            for (int m : rows) {
                float[] xs = new float[m * k];
                for (int i = 0; i < xs.length; i++) {
                    xs[i] = rnd.nextInt(9) - 4;
                }
                Tensor x = Tensor.of(xs, m, k);
                Tensor y = Tensor.allocate(DType.F32, Shape.of(m, n));
                backend.linear(x, w, y);
                inputs.add(x);
                expected.add(y.toFloatArray());
            }
        }
        int callers = 4;
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(callers);
        try {
            java.util.List<java.util.concurrent.Future<?>> done = new java.util.ArrayList<>();
            for (int c = 0; c < callers; c++) {
                int first = c;
                done.add(pool.submit(() -> {
                    for (int iter = 0; iter < 40; iter++) {
                        int i = (first + iter) % inputs.size();
                        Tensor x = inputs.get(i);
                        Tensor y = Tensor.allocate(DType.F32, Shape.of(x.shape().dim(0), n));
                        backend.linear(x, weights.get(i / rows.length), y);
                        org.junit.jupiter.api.Assertions.assertArrayEquals(expected.get(i), y.toFloatArray(),
                                "case " + i + " seed " + seed);
                    }
                    return null;
                }));
            }
            for (java.util.concurrent.Future<?> f : done) {
                f.get(120, java.util.concurrent.TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void rejectsMismatchedShapesAndDevices() {
        Tensor x = Tensor.allocate(DType.F32, Shape.of(2, 3));
        Tensor y = Tensor.allocate(DType.F32, Shape.of(2, 4));
        var w = backend.prepare(java.util.List.of(DenseMatrix.of(Tensor.allocate(DType.F32, Shape.of(4, 5)))), null, DeviceRef.cpu(0));
        ConfigException e = assertThrows(ConfigException.class, () -> backend.linear(x, w, y));
        assertTrue(e.getMessage().contains("disagree on K"), e.getMessage());
        assertThrows(ConfigException.class, () -> backend.copyTo(x, DeviceRef.gpu(0)));
        Tensor wrongY = Tensor.allocate(DType.F32, Shape.of(2, 5));
        assertThrows(ConfigException.class,
                () -> backend.linear(x, backend.prepare(java.util.List.of(DenseMatrix.of(Tensor.allocate(DType.F32, Shape.of(4, 3)))),
                        null, DeviceRef.cpu(0)), wrongY));
    }

    @Test
    void emptyBatchesProduceEmptyOutputs() {
        Tensor x = Tensor.allocate(DType.F32, Shape.of(0, 3));
        var w = backend.prepare(java.util.List.of(DenseMatrix.of(Tensor.allocate(DType.F32, Shape.of(4, 3)))), null, DeviceRef.cpu(0));
        Tensor y = Tensor.allocate(DType.F32, Shape.of(0, 4));
        backend.linear(x, w, y);
        assertEquals(0, y.numel());
    }
}

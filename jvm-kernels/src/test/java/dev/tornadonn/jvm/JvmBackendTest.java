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

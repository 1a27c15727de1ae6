package dev.tornadonn.tornado;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * A kernel the device's compiler rejects must fail loudly, not run as plain Java on the host: the
 * backend's runs depend on {@code tornado.recover.bailout=False}. TornadoVM 5.2 spells a NaN
 * constant {@code NaNF} in OpenCL C, which no OpenCL compiler accepts.
 */
class NoFallbackTest {

    static void writesNan(IntArray flags, FloatArray out) {
        for (@Parallel int i = 0; i < out.getSize(); i++) {
            out.set(i, flags.get(i) != 0 ? Float.NaN : 1.0f);
        }
    }

    @Test
    void bailoutIsOff() {
        new TornadoVmBackend(); // its static initialiser sets the property when nothing else did
        assertEquals("false", System.getProperty(TornadoVmBackend.BAILOUT_PROPERTY).toLowerCase(java.util.Locale.ROOT));
    }

    @Test
    void aKernelThatDoesNotCompileThrows() {
        IntArray bits = IntArray.fromElements(1);
        FloatArray out = new FloatArray(1);
        TaskGraph graph = new TaskGraph("nofallback")
                .transferToDevice(DataTransferMode.EVERY_EXECUTION, bits)
                .task("t", NoFallbackTest::writesNan, bits, out)
                .transferToHost(DataTransferMode.EVERY_EXECUTION, out);
        TornadoExecutionPlan plan = new TornadoExecutionPlan(graph.snapshot())
                .withDevice(TornadoDevices.get(dev.tornadonn.core.DeviceRef.gpu(0)));
        assertThrows(RuntimeException.class, plan::execute, () -> "ran anyway, giving " + out.get(0));
    }

    /**
     * Each dequantising kernel (GPTQ, fp8, int8 and GGUF Q4_0/Q8_0/Q4_K/Q6_K GEMV and GEMM, the fp8
     * and int8 input kernels) compiles for gpu:0 and gives its twin's answer, in plans for one row
     * (GEMV) and for nine (GEMM): with bailout off, a kernel the device's compiler rejects throws
     * here instead of running as Java.
     */
    @Test
    void everyQuantisedKernelCompilesForTheDevice() {
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(15);
        int k0 = 96;
        int n = 24;
        byte[] codes = new byte[n * k0];
        for (int i = 0; i < codes.length; i++) {
            codes[i] = (byte) rnd.nextInt(8);
        }
        float[] scales = new float[n * 3];
        float[] zeros = new float[n * 3];
        for (int i = 0; i < scales.length; i++) {
            scales[i] = 0.01f * (1 + rnd.nextInt(9));
            zeros[i] = rnd.nextInt(8);
        }
        int[] groupOf = new int[k0];
        for (int c = 0; c < k0; c++) {
            groupOf[c] = (c * 7) % 3; // act-order-like: groups interleaved
        }
        var gptq = dev.tornadonn.core.weights.GroupQuantizedMatrix.pack(n, k0, 3, 3, codes, scales, zeros, groupOf);
        byte[] fp8Codes = new byte[n * k0];
        for (int i = 0; i < fp8Codes.length; i++) {
            fp8Codes[i] = dev.tornadonn.core.numeric.Float8Format.E5M2.fromFloat((float) rnd.nextGaussian());
        }
        var fp8 = dev.tornadonn.core.weights.Fp8Matrix.of(n, k0, dev.tornadonn.core.numeric.Float8Format.E5M2, fp8Codes,
                new dev.tornadonn.core.weights.Fp8WeightScale.PerRow(java.util.Arrays.copyOf(scales, n)),
                new dev.tornadonn.core.weights.Fp8InputQuantization.DynamicPerTensor(dev.tornadonn.core.numeric.Float8Format.E5M2,
                        Float.POSITIVE_INFINITY));
        var fp8Static = dev.tornadonn.core.weights.Fp8Matrix.of(n, k0, dev.tornadonn.core.numeric.Float8Format.E5M2, fp8Codes,
                new dev.tornadonn.core.weights.Fp8WeightScale.PerTensor(0.5f),
                new dev.tornadonn.core.weights.Fp8InputQuantization.Static(dev.tornadonn.core.numeric.Float8Format.E5M2, 0.01f));
        byte[] int8Codes = new byte[n * k0];
        for (int i = 0; i < int8Codes.length; i++) {
            int8Codes[i] = (byte) rnd.nextInt(-128, 128);
        }
        var int8 = dev.tornadonn.core.weights.Int8Matrix.of(n, k0, int8Codes,
                new dev.tornadonn.core.weights.Int8WeightScale.PerChannel(java.util.Arrays.copyOf(scales, n)),
                new dev.tornadonn.core.weights.Int8InputQuantization.DynamicPerTokenAsymmetric());
        var int8Static = dev.tornadonn.core.weights.Int8Matrix.of(n, k0, int8Codes,
                new dev.tornadonn.core.weights.Int8WeightScale.PerTensor(0.01f),
                new dev.tornadonn.core.weights.Int8InputQuantization.StaticAsymmetric(0.02f, -7));
        java.util.List<dev.tornadonn.core.weights.WeightMatrix> weights = new java.util.ArrayList<>(java.util.List.of(gptq, fp8,
                fp8Static, int8, int8Static));
        for (var type : java.util.List.of(dev.tornadonn.core.io.GgmlType.Q4_0, dev.tornadonn.core.io.GgmlType.Q8_0,
                dev.tornadonn.core.io.GgmlType.Q4_K, dev.tornadonn.core.io.GgmlType.Q6_K)) {
            weights.add(gguf(type, n, type.blockSize() == 32 ? 3 * 32 : 2 * 256, rnd));
        }
        for (var w : weights) {
            int k = w.cols();
            DeviceWeight qw;
            dev.tornadonn.twins.KernelWeight decode;
            if (w instanceof dev.tornadonn.core.weights.GgufMatrix) {
                qw = DeviceWeight.ofGguf(java.util.List.of(w));
                var layout = dev.tornadonn.twins.GgufCodes.of(java.util.List.of(w));
                decode = dev.tornadonn.twins.KernelWeight.ofGguf(layout, layout.codes(java.util.List.of(w)));
            } else {
                qw = DeviceWeight.ofPacked(java.util.List.of(w));
                decode = dev.tornadonn.twins.KernelWeight.ofPacked(qw.layout(), qw.layout().codes(java.util.List.of(w)));
            }
            try (LayerPlan plan = new LayerPlan(TornadoDevices.get(dev.tornadonn.core.DeviceRef.gpu(0)), 9,
                    java.util.List.of(new LayerPlan.Stage(qw, null, n, dev.tornadonn.twins.KernelActivation.NONE, false)))) {
                for (int m : new int[] {1, 9}) {
                    float[] x = new float[m * k];
                    for (int i = 0; i < x.length; i++) {
                        x[i] = (float) rnd.nextGaussian();
                    }
                    float[] xin = x;
                    if (qw.quantisesInput() && qw.layout().int8()) {
                        xin = new float[x.length];
                        dev.tornadonn.twins.Int8InputTwin.run(x, m, qw.layout(), xin);
                    } else if (qw.quantisesInput()) {
                        xin = new float[x.length];
                        dev.tornadonn.twins.Fp8InputTwin.run(x, m, qw.layout(), xin);
                    }
                    float[] want = new float[m * n];
                    dev.tornadonn.twins.RowGemvTwin.run(xin, m, decode::at, null, want, n, k,
                            dev.tornadonn.twins.KernelActivation.NONE, 0, 0);
                    dev.tornadonn.core.Tensor xt = dev.tornadonn.core.Tensor.of(dev.tornadonn.core.DType.F32,
                            dev.tornadonn.core.Shape.of(m, k), x);
                    dev.tornadonn.core.Tensor yt = dev.tornadonn.core.Tensor.allocate(dev.tornadonn.core.DType.F32,
                            dev.tornadonn.core.Shape.of(m, n));
                    plan.run(xt, yt);
                    float[] got = yt.toFloatArray();
                    for (int i = 0; i < got.length; i++) {
                        assertEquals(want[i], got[i], 1e-4f * (1 + Math.abs(want[i])), w.describe() + " M=" + m + " at " + i);
                    }
                }
            }
        }
    }

    /** Random GGUF blocks with finite f16 scales of either sign (d, and Q4_K's dmin; Q6_K's d at byte 208). */
    private static dev.tornadonn.core.weights.GgufMatrix gguf(dev.tornadonn.core.io.GgmlType type, int n, int k,
                                                              java.util.SplittableRandom rnd) {
        int rowBytes = (int) type.rowBytes(k);
        byte[] raw = new byte[n * rowBytes];
        rnd.nextBytes(raw);
        int[] halves = switch (type) {
            case Q4_K -> new int[] {0, 2};
            case Q6_K -> new int[] {208};
            default -> new int[] {0};
        };
        for (int at = 0; at < raw.length; at += type.blockBytes()) {
            for (int f : halves) {
                short h = Float.floatToFloat16((float) (0.05 * (0.05 + rnd.nextDouble()) * (rnd.nextBoolean() ? 1 : -1)));
                raw[at + f] = (byte) h;
                raw[at + f + 1] = (byte) (h >> 8);
            }
        }
        dev.tornadonn.core.Tensor t = dev.tornadonn.core.Tensor.allocate(dev.tornadonn.core.DType.U8,
                dev.tornadonn.core.Shape.of(n, rowBytes));
        java.lang.foreign.MemorySegment.copy(java.lang.foreign.MemorySegment.ofArray(raw), 0, t.data(), 0, raw.length);
        return new dev.tornadonn.core.weights.GgufMatrix(n, k, type, t);
    }
}

package dev.tornadonn.tornado;

import dev.tornadonn.core.ConfigException;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.io.GgmlType;
import dev.tornadonn.core.weights.DenseMatrix;
import dev.tornadonn.core.weights.GgufMatrix;
import dev.tornadonn.core.TornadoNnException;
import dev.tornadonn.core.backend.Backends;
import dev.tornadonn.core.backend.DeviceInfo;
import dev.tornadonn.core.io.TensorSource;
import dev.tornadonn.layers.Linear;
import dev.tornadonn.layers.LinearConfig;
import dev.tornadonn.layers.quant.GptqConfig;
import dev.tornadonn.layers.quant.GptqFormat;
import dev.tornadonn.reference.CaseResult;
import dev.tornadonn.reference.Comparison;
import dev.tornadonn.reference.Fp8LinearCase;
import dev.tornadonn.reference.GptqLinearCase;
import dev.tornadonn.layers.quant.Float8Config;
import dev.tornadonn.layers.quant.Float8InputScaleSpec;
import dev.tornadonn.layers.quant.Float8WeightScaleSpec;
import dev.tornadonn.reference.Oracle;
import dev.tornadonn.reference.RandomTensors;
import dev.tornadonn.reference.Tolerance;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** What the conformance suite does not show: plans reused across row counts, and the errors users see. */
class TornadoVmBackendTest {
    private static final long SEED = Long.getLong("tornadonn.seed", System.nanoTime());
    private static final DeviceRef GPU = DeviceRef.gpu(0);

    static {
        System.out.println("TornadoVmBackendTest seed " + SEED + " (rerun with -Dtornadonn.seed=" + SEED + ")");
    }

    /** One layer, one plan: growing past its capacity and switching GEMV/GEMM must not go stale. */
    @Test
    void onePlanServesEveryRowCountInTurn() {
        SplittableRandom rnd = new SplittableRandom(SEED);
        int in = 77;
        int out = 33;
        Tensor w = RandomTensors.uniform(DType.BF16, Shape.of(out, in), rnd);
        Tensor b = RandomTensors.uniform(DType.BF16, Shape.of(out), rnd);
        Linear layer = Linear.load(LinearConfig.builder(in, out).dtype(DType.BF16).device(GPU).hasBias(true).name("p").build(),
                TensorSource.of(Map.of("p.weight", w, "p.bias", b)));
        for (int m : new int[] {1, 40, 3, 9, 100, 8, 1}) {
            Tensor x = RandomTensors.uniform(DType.F32, Shape.of(m, in), rnd);
            Tensor y = layer.forward(x.to(GPU));
            double[] xd = Oracle.decode(x);
            double[] wd = Oracle.decode(w);
            double[] bd = Oracle.decode(b);
            Comparison c = Comparison.of(y.toFloatArray(), Oracle.linear(xd, m, in, wd, out, bd),
                    Oracle.linear(Oracle.abs(xd), m, in, Oracle.abs(wd), out, Oracle.abs(bd)));
            assertTrue(c.within(Tolerance.F32_ACCUMULATION), () -> "M=" + m + ": " + c);
        }
    }

    @Test
    void gpu0IsListedWithItsMemory() {
        List<DeviceInfo> devices = Backends.forDevice(GPU).devices();
        assertEquals(GPU, devices.getFirst().ref());
        assertTrue(devices.getFirst().backend().startsWith("tornadovm-"), devices.getFirst().backend());
        assertTrue(devices.getFirst().memoryBytes() > 0);
    }

    @Test
    void aDevicePastTheLastIsNamed() {
        int count = TornadoDevices.all().size();
        DeviceRef missing = DeviceRef.gpu(count);
        var e = assertThrows(TornadoNnException.class,
                () -> Tensor.allocate(DType.F32, Shape.of(2), DeviceRef.cpu(0)).to(missing));
        assertTrue(e.getMessage().contains(missing.toString()) && e.getMessage().contains(count + " device"), e.getMessage());
    }

    /** GPTQ (3-bit codes straddle words; act-order) and fp8 (dynamic blocks) at GEMV and GEMM row counts, one plan each. */
    @Test
    void quantisedLayersRunHere() {
        for (Shape x : List.of(Shape.of(2, 128), Shape.of(20, 128))) {
            GptqLinearCase g = new GptqLinearCase(x, 64, new GptqConfig(3, 32, true, false, GptqFormat.GPTQ), true, true, SEED);
            CaseResult r = g.run(GPU);
            assertTrue(r.passed(), r::describe);
            Fp8LinearCase f = new Fp8LinearCase(x, 17, DType.F8_E4M3FN, Float8Config.of(Float8InputScaleSpec.dynamicBlock(64, null),
                    Float8WeightScaleSpec.block(16, 32)).withOutputDType(DType.F32), true, true, true, DType.F32, false, SEED);
            CaseResult fr = f.run(GPU);
            assertTrue(fr.passed(), fr::describe);
        }
    }

    /**
     * A quantised MLP through gatedMlp, one task graph (gate/up with its activation epilogue, then
     * down), GPTQ with different act-order maps for gate and up, fp8 with per-token inputs, int8
     * with asymmetric per-token inputs, and GGUF as llama.cpp's Q4_K_M mixes it (gate/up Q4_K, down
     * Q6_K): as the JVM backend computes it, at GEMV and GEMM row counts.
     */
    @Test
    void quantisedMlpsRunAsOneGraph() {
        SplittableRandom rnd = new SplittableRandom(SEED);
        var jvm = Backends.forDevice(DeviceRef.cpu(0));
        var gpu = Backends.forDevice(GPU);
        for (String kind : List.of("gptq", "fp8", "int8", "gguf")) {
            int h = kind.equals("gguf") ? 256 : 64;
            int f = kind.equals("gguf") ? 512 : 96;
            List<dev.tornadonn.core.weights.WeightMatrix> gu = List.of(quantised(kind, f, h, rnd), quantised(kind, f, h, rnd));
            var down = kind.equals("gguf") ? gguf(GgmlType.Q6_K, h, f, rnd) : quantised(kind, h, f, rnd);
            Tensor bias = RandomTensors.uniform(DType.F32, Shape.of(2 * f), rnd);
            var guCpu = jvm.prepare(gu, bias, DeviceRef.cpu(0));
            var downCpu = jvm.prepare(List.of(down), null, DeviceRef.cpu(0));
            var guGpu = gpu.prepare(gu, bias, GPU);
            var downGpu = gpu.prepare(List.of(down), null, GPU);
            for (int m : new int[] {3, 12}) {
                Tensor x = RandomTensors.uniform(DType.F32, Shape.of(m, h), rnd);
                Tensor want = Tensor.allocate(DType.F32, Shape.of(m, h));
                jvm.gatedMlp(dev.tornadonn.core.Activation.SILU, x, guCpu, downCpu, want);
                Tensor got = Tensor.allocate(DType.F32, Shape.of(m, h), GPU);
                gpu.gatedMlp(dev.tornadonn.core.Activation.SILU, x.to(GPU), guGpu, downGpu, got);
                double[] ref = new double[m * h];
                float[] w = want.toFloatArray();
                for (int i = 0; i < ref.length; i++) {
                    ref[i] = w[i];
                }
                Comparison c = Comparison.of(got.toFloatArray(), ref);
                // fp8 and int8: the hidden activations are re-quantised, and an f32 ulp between backends
                // may move one across a rounding boundary, so fp8's tolerance, not f32's
                Tolerance t = kind.equals("gptq") ? new Tolerance(1e-4, 1e-3) : new Tolerance(3e-2, 3e-2);
                assertTrue(c.within(t), () -> kind + " M=" + m + ": " + c);
            }
        }
    }

    private static dev.tornadonn.core.weights.WeightMatrix quantised(String kind, int n, int k, SplittableRandom rnd) {
        if (kind.equals("gguf")) {
            return gguf(GgmlType.Q4_K, n, k, rnd);
        }
        if (kind.equals("gptq")) {
            int groups = k / 32;
            byte[] codes = new byte[n * k];
            for (int i = 0; i < codes.length; i++) {
                codes[i] = (byte) rnd.nextInt(16);
            }
            float[] scales = new float[n * groups];
            float[] zeros = new float[n * groups];
            for (int i = 0; i < scales.length; i++) {
                scales[i] = 0.01f * (1 + rnd.nextInt(9));
                zeros[i] = rnd.nextInt(16);
            }
            int[] groupOf = new int[k];
            int shift = rnd.nextInt(k);
            for (int c = 0; c < k; c++) {
                groupOf[c] = ((c + shift) % k) / 32;
            }
            return dev.tornadonn.core.weights.GroupQuantizedMatrix.pack(n, k, 4, groups, codes, scales, zeros, groupOf);
        }
        if (kind.equals("int8")) {
            byte[] codes = new byte[n * k];
            float[] rowScales = new float[n];
            for (int i = 0; i < codes.length; i++) {
                codes[i] = (byte) rnd.nextInt(-128, 128);
            }
            for (int i = 0; i < n; i++) {
                rowScales[i] = 0.0005f * (1 + rnd.nextInt(4));
            }
            return dev.tornadonn.core.weights.Int8Matrix.of(n, k, codes, new dev.tornadonn.core.weights.Int8WeightScale.PerChannel(
                    rowScales), new dev.tornadonn.core.weights.Int8InputQuantization.DynamicPerTokenAsymmetric());
        }
        var e4 = dev.tornadonn.core.numeric.Float8Format.E4M3FN;
        byte[] codes = new byte[n * k];
        for (int i = 0; i < codes.length; i++) {
            codes[i] = e4.fromFloat((float) rnd.nextGaussian() * 4);
        }
        float[] rowScales = new float[n];
        for (int i = 0; i < n; i++) {
            rowScales[i] = 0.02f * (1 + rnd.nextInt(4));
        }
        return dev.tornadonn.core.weights.Fp8Matrix.of(n, k, e4, codes, new dev.tornadonn.core.weights.Fp8WeightScale.PerRow(rowScales),
                new dev.tornadonn.core.weights.Fp8InputQuantization.DynamicPerToken(e4, Float.POSITIVE_INFINITY));
    }

    /** Random blocks with finite f16 scales of either sign (d, and Q4_K's dmin; Q6_K's d at byte 208). */
    private static GgufMatrix gguf(GgmlType type, int n, int k, SplittableRandom rnd) {
        int rowBytes = (int) type.rowBytes(k);
        byte[] raw = new byte[n * rowBytes];
        rnd.nextBytes(raw);
        int[] halves = type == GgmlType.Q4_K ? new int[] {0, 2} : type == GgmlType.Q6_K ? new int[] {208} : new int[] {0};
        for (int at = 0; at < raw.length; at += type.blockBytes()) {
            for (int field : halves) {
                short bits = Float.floatToFloat16((float) (0.002 * (0.05 + rnd.nextDouble()) * (rnd.nextBoolean() ? 1 : -1)));
                raw[at + field] = (byte) bits;
                raw[at + field + 1] = (byte) (bits >> 8);
            }
        }
        Tensor t = Tensor.allocate(DType.U8, Shape.of(n, rowBytes));
        java.lang.foreign.MemorySegment.copy(java.lang.foreign.MemorySegment.ofArray(raw), 0, t.data(), 0, raw.length);
        return new GgufMatrix(n, k, type, t);
    }

    /** One scalar format per weight: a gate and an up of different GGUF types are refused by name, before anything is uploaded. */
    @Test
    void ggufGateAndUpOfDifferentTypesAreRefusedByName() {
        SplittableRandom rnd = new SplittableRandom(SEED);
        List<dev.tornadonn.core.weights.WeightMatrix> gu = List.of(gguf(GgmlType.Q4_0, 8, 64, rnd), gguf(GgmlType.Q8_0, 8, 64, rnd));
        var e = assertThrows(ConfigException.class, () -> Backends.forDevice(GPU).prepare(gu, null, GPU));
        assertTrue(e.getMessage().startsWith("gpu:0: ") && e.getMessage().contains("gguf q4_0")
                && e.getMessage().contains("gguf q8_0") && e.getMessage().contains("cpu device"), e.getMessage());
    }

    /** x is quantised once for a stacked weight: int8 gate and up with their own static scales are refused, naming the device. */
    @Test
    void int8GateAndUpWithDifferentInputQuantisationsAreRefusedNamingTheDevice() {
        var gate = dev.tornadonn.core.weights.Int8Matrix.of(2, 3, new byte[6], new dev.tornadonn.core.weights.Int8WeightScale.PerTensor(1f),
                new dev.tornadonn.core.weights.Int8InputQuantization.StaticAsymmetric(0.5f, 3));
        var up = dev.tornadonn.core.weights.Int8Matrix.of(2, 3, new byte[6], new dev.tornadonn.core.weights.Int8WeightScale.PerTensor(1f),
                new dev.tornadonn.core.weights.Int8InputQuantization.StaticAsymmetric(0.25f, 3));
        var e = assertThrows(dev.tornadonn.core.UnsupportedOnDeviceException.class,
                () -> Backends.forDevice(GPU).prepare(List.of(gate, up), null, GPU));
        assertTrue(e.getMessage().contains("gpu:0") && e.getMessage().contains("scale=0.5")
                && e.getMessage().contains("scale=0.25") && e.getMessage().contains("cpu device"), e.getMessage());
    }

    @Test
    void aWeightPreparedElsewhereIsRefused() {
        var host = Backends.forDevice(DeviceRef.cpu(0)).prepare(
                List.of(DenseMatrix.of(Tensor.allocate(DType.F32, Shape.of(4, 3)))), null, DeviceRef.cpu(0));
        Tensor x = Tensor.allocate(DType.F32, Shape.of(1, 3), GPU);
        Tensor y = Tensor.allocate(DType.F32, Shape.of(1, 4), GPU);
        var e = assertThrows(ConfigException.class, () -> Backends.forDevice(GPU).linear(x, host, y));
        assertTrue(e.getMessage().contains("not prepared by the TornadoVM backend"), e.getMessage());
    }
}

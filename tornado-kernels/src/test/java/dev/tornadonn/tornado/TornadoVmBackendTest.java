package dev.tornadonn.tornado;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.weights.DenseMatrix;
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
import dev.tornadonn.reference.GptqLinearCase;
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

    @Test
    void quantisedLayersSayTheyAreNotSupportedHere() {
        GptqLinearCase c = new GptqLinearCase(Shape.of(2, 128), 8, new GptqConfig(4, 32, false, true, GptqFormat.GPTQ),
                false, false, SEED);
        CaseResult r = c.run(GPU);
        assertNotNull(r.error(), r::describe);
        assertTrue(r.error().contains("not supported on gpu:0"), r.error());
    }

    @Test
    void aWeightPreparedElsewhereIsRefused() {
        var host = Backends.forDevice(DeviceRef.cpu(0)).prepare(
                List.of(DenseMatrix.of(Tensor.allocate(DType.F32, Shape.of(4, 3)))), null, DeviceRef.cpu(0));
        Tensor x = Tensor.allocate(DType.F32, Shape.of(1, 3), GPU);
        Tensor y = Tensor.allocate(DType.F32, Shape.of(1, 4), GPU);
        var e = assertThrows(IllegalArgumentException.class, () -> Backends.forDevice(GPU).linear(x, host, y));
        assertTrue(e.getMessage().contains("not prepared by the TornadoVM backend"), e.getMessage());
    }
}

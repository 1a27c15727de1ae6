package dev.tornadonn.tornado;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.Tensor;
import dev.tornadonn.core.weights.Int8InputQuantization;
import dev.tornadonn.core.weights.Int8Matrix;
import dev.tornadonn.core.weights.Int8WeightScale;
import dev.tornadonn.twins.Int8InputTwin;
import dev.tornadonn.twins.KernelActivation;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The device's int8 input kernel quantises x as its twin does, to the bit, in every input scheme:
 * through an identity weight (code 1 on the diagonal, scale 1), whose product gives each row's
 * {@code (q − z)·s} exactly, in the GEMV (5 rows) and the GEMM (20 rows). The rows hold what tells
 * roundings apart: ties, near-ties, saturation, zero and constant rows, rows far from 0, subnormal
 * and huge rows, and NaN and ±∞ (all NaN).
 */
class Int8InputKernelTest {
    private static final long SEED = Long.getLong("tornadonn.seed", System.nanoTime());

    static {
        System.out.println("Int8InputKernelTest seed " + SEED + " (rerun with -Dtornadonn.seed=" + SEED + ")");
    }

    @Test
    void theDeviceQuantisesXAsItsTwinToTheBit() {
        SplittableRandom rnd = new SplittableRandom(SEED);
        int k = 130;
        byte[] identity = new byte[k * k];
        for (int i = 0; i < k; i++) {
            identity[i * k + i] = 1;
        }
        List<Int8InputQuantization> inputs = List.of(new Int8InputQuantization.Static(0.0371f),
                new Int8InputQuantization.StaticAsymmetric(0.0371f, -9), new Int8InputQuantization.DynamicPerToken(),
                new Int8InputQuantization.DynamicPerTokenAsymmetric());
        for (Int8InputQuantization in : inputs) {
            Int8Matrix w = Int8Matrix.of(k, k, identity, new Int8WeightScale.PerTensor(1f), in);
            DeviceWeight dw = DeviceWeight.ofPacked(List.of(w));
            try (LayerPlan plan = new LayerPlan(TornadoDevices.get(DeviceRef.gpu(0)), 20,
                    List.of(new LayerPlan.Stage(dw, null, k, KernelActivation.NONE, false)))) {
                for (int m : new int[] {5, 20}) {
                    float[] x = rows(m, k, rnd);
                    float[] want = new float[m * k];
                    Int8InputTwin.run(x, m, dw.layout(), want);
                    Tensor y = Tensor.allocate(DType.F32, Shape.of(m, k)).fill(42f);
                    plan.run(Tensor.of(DType.F32, Shape.of(m, k), x), y);
                    float[] got = y.toFloatArray();
                    for (int i = 0; i < got.length; i++) {
                        int at = i;
                        String what = in.describe() + " M=" + m + " row " + i / k + " col " + i % k + ": x " + x[at];
                        if (Float.isNaN(want[i])) {
                            assertTrue(Float.isNaN(got[i]), () -> what + " gave " + got[at] + ", not NaN");
                        } else {
                            assertEquals(want[i], got[i], 0f, what);
                        }
                    }
                }
            }
        }
    }

    /** m rows of k: random ones, then one of each kind that tells roundings apart. */
    private static float[] rows(int m, int k, SplittableRandom rnd) {
        float[] x = new float[m * k];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (rnd.nextDouble() * 8 - 4);
        }
        int kinds = 11;
        for (int r = 0; r < m; r++) {
            int from = r * k;
            switch ((r + rnd.nextInt(kinds)) % kinds) {
                case 0 -> Arrays.fill(x, from, from + k, 0f);
                case 1 -> Arrays.fill(x, from, from + k, (float) (rnd.nextDouble() * 4 - 2));
                case 2 -> { // ties for every scale: s = 1 per token (max 127, or −127.5 to 127.5)
                    for (int c = 0; c < k; c++) {
                        x[from + c] = rnd.nextInt(-120, 120) + 0.5f;
                    }
                    x[from] = 127f;
                    x[from + 1] = rnd.nextBoolean() ? 127.5f : -127.5f;
                }
                case 3 -> { // a few ulps from (j + ½)·s, where x / s and x·(1/s) round apart
                    float s = rnd.nextBoolean() ? 0.0371f : 5.1f / 127f;
                    for (int c = 0; c < k; c++) {
                        float t = (rnd.nextInt(-100, 100) + 0.5f) * s;
                        for (int step = rnd.nextInt(-2, 3); step != 0; step -= Integer.signum(step)) {
                            t = step > 0 ? Math.nextUp(t) : Math.nextDown(t);
                        }
                        x[from + c] = t;
                    }
                    x[from] = 5.1f;
                }
                case 4 -> {
                    for (int c = from; c < from + k; c++) {
                        x[c] = 3e5f + x[c] * 1e-2f; // an asymmetric zero point beyond 2^24
                    }
                }
                case 5 -> {
                    for (int c = from; c < from + k; c++) {
                        x[c] *= 0x1p-147f; // subnormal: 127 / max|x| and 1 / s overflow
                    }
                }
                case 6 -> {
                    for (int c = from; c < from + k; c++) {
                        x[c] *= 0x1p125f; // the asymmetric span overflows f32
                    }
                }
                case 7 -> x[from + rnd.nextInt(k)] = Float.NaN;
                case 8 -> x[from + rnd.nextInt(k)] = rnd.nextBoolean() ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY;
                case 9 -> {
                    for (int c = from; c < from + k; c += 3) {
                        x[c] = rnd.nextBoolean() ? 40f : -40f; // saturates a static scale
                    }
                }
                case 10 -> {
                    for (int c = from; c < from + k; c++) {
                        x[c] += 1000f; // a zero point near −255 000
                    }
                }
                default -> { }
            }
        }
        return x;
    }
}

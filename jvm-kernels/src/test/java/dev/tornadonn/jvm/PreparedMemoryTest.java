package dev.tornadonn.jvm;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tornadonn.core.DType;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.Shape;
import dev.tornadonn.core.backend.PreparedMatrix;
import dev.tornadonn.core.numeric.Float8Format;
import dev.tornadonn.core.weights.Fp8InputQuantization;
import dev.tornadonn.core.weights.Fp8Matrix;
import dev.tornadonn.core.weights.Fp8WeightScale;
import dev.tornadonn.core.weights.GroupQuantizedMatrix;
import dev.tornadonn.core.weights.WeightMatrix;
import dev.tornadonn.reference.RandomTensors;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** A prepared quantised weight stays packed: what the kernels hold is the checkpoint's packing, give or take a few tables. */
class PreparedMemoryTest {
    private static final long SEED = Long.getLong("tornadonn.seed", System.nanoTime());

    static {
        System.out.println("PreparedMemoryTest seed " + SEED + " (rerun with -Dtornadonn.seed=" + SEED + ")");
    }

    @Test
    void aPreparedGptqWeightHoldsAtMostItsPackedBytes() {
        SplittableRandom rnd = new SplittableRandom(SEED);
        for (int bits : new int[] {2, 3, 4, 8}) {
            int rows = 512, cols = 1024, groups = 8;
            byte[] codes = new byte[rows * cols];
            for (int i = 0; i < codes.length; i++) {
                codes[i] = (byte) rnd.nextInt(1 << bits);
            }
            int[] groupOf = new int[cols];
            for (int k = 0; k < cols; k++) {
                groupOf[k] = k / (cols / groups);
            }
            float[] scales = new float[rows * groups];
            float[] zeros = new float[rows * groups];
            java.util.Arrays.fill(scales, 0.01f);
            // The kernels read codes in 4-bit planes: 2- and 3-bit codes widen to a nibble, 4 and 8 bits stay as packed.
            double widening = bits < 4 ? 4.0 / bits : 1;
            checkRatio(GroupQuantizedMatrix.pack(rows, cols, bits, groups, codes, scales, zeros, groupOf), bits + "-bit GPTQ",
                    1.05 * widening);
        }
    }

    @Test
    void aPreparedFp8WeightHoldsAtMostItsPackedBytes() {
        SplittableRandom rnd = new SplittableRandom(SEED + 1);
        int rows = 512, cols = 1024;
        byte[] codes = new byte[rows * cols];
        float[] w = RandomTensors.uniform(DType.F32, Shape.of(rows, cols), rnd).toFloatArray();
        for (int i = 0; i < codes.length; i++) {
            codes[i] = Float8Format.E4M3FN.fromFloat(w[i] * 448f); // codes over e4m3's range, as in real checkpoints
        }
        float[] rowScales = new float[rows];
        java.util.Arrays.fill(rowScales, 1f / 448);
        checkRatio(Fp8Matrix.of(rows, cols, Float8Format.E4M3FN, codes, new Fp8WeightScale.PerRow(rowScales),
                new Fp8InputQuantization.DynamicPerToken(Float8Format.E4M3FN, Float.POSITIVE_INFINITY)), "fp8 per row", 1.05);
    }

    private static void checkRatio(WeightMatrix m, String what, double bound) {
        PreparedMatrix p = new JvmBackend().prepare(List.of(m), null, DeviceRef.cpu(0));
        double ratio = (double) p.bytes() / m.packedBytes();
        assertTrue(ratio <= bound, what + ": prepared " + p.bytes() + " bytes for " + m.packedBytes() + " packed (" + ratio + "x)");
    }
}

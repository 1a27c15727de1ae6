package dev.tornadonn.jvm;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** {@link GroupQuantKernels} with the Vector API: a nibble plane unpacks to 16 consecutive weights. */
final class VectorGroupQuantKernels implements GroupQuantKernels {
    private static final VectorSpecies<Float> F = VectorKernels.F;
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final int L = F.length();

    @Override
    public void decodeRow(GroupQuantLayout w, int n, float[] out) {
        int planeInts = w.planeInts();
        int[] packed = w.packed();
        int lo = n * w.planes() * planeInts;
        int hi = lo + planeInts;
        boolean twoPlanes = w.planes() == 2;
        int rowGroups = n * w.groups();
        for (int c = 0; c < w.chunks(); c++) {
            int wordBase = c * GroupQuantLayout.INTS_PER_CHUNK;
            for (int h = 0; h < GroupQuantLayout.BLOCK; h += L) {
                IntVector low = IntVector.fromArray(I, packed, lo + wordBase + h);
                IntVector high = twoPlanes ? IntVector.fromArray(I, packed, hi + wordBase + h) : null;
                for (int plane = 0; plane < 8; plane++) {
                    int block = c * 8 + plane;
                    int g = rowGroups + w.blockGroup()[block];
                    FloatVector v = codes(low, high, plane);
                    v.sub(w.zeros()[g]).mul(w.scales()[g]).intoArray(out, block * GroupQuantLayout.BLOCK + h);
                }
            }
        }
    }

    @Override
    public float fusedDot(GroupQuantLayout w, int n, float[] xp, int xo, float[] xsum) {
        int planeInts = w.planeInts();
        int[] packed = w.packed();
        int lo = n * w.planes() * planeInts;
        int hi = lo + planeInts;
        boolean twoPlanes = w.planes() == 2;
        int rowGroups = n * w.groups();
        int[] blockGroup = w.blockGroup();
        float[] scales = w.scales();
        float total = 0f;
        int group = blockGroup[0];
        FloatVector acc = FloatVector.zero(F);
        for (int c = 0; c < w.chunks(); c++) {
            int wordBase = c * GroupQuantLayout.INTS_PER_CHUNK;
            for (int h = 0; h < GroupQuantLayout.BLOCK; h += L) {
                IntVector low = IntVector.fromArray(I, packed, lo + wordBase + h);
                IntVector high = twoPlanes ? IntVector.fromArray(I, packed, hi + wordBase + h) : null;
                for (int plane = 0; plane < 8; plane++) {
                    int block = c * 8 + plane;
                    if (blockGroup[block] != group) { // one reduction per group run, not per block
                        total += acc.reduceLanes(VectorOperators.ADD) * scales[rowGroups + group];
                        acc = FloatVector.zero(F);
                        group = blockGroup[block];
                    }
                    FloatVector v = codes(low, high, plane);
                    acc = v.fma(FloatVector.fromArray(F, xp, xo + block * GroupQuantLayout.BLOCK + h), acc);
                }
            }
        }
        total += acc.reduceLanes(VectorOperators.ADD) * scales[rowGroups + group];
        return total - GroupQuantKernels.zeroTerm(w, n, xsum);
    }

    /** The codes of nibble plane {@code plane}, as floats; {@code high} (null for 4 bits or fewer) holds the upper nibbles. */
    private static FloatVector codes(IntVector low, IntVector high, int plane) {
        IntVector q = low.lanewise(VectorOperators.LSHR, 4 * plane).and(0xF);
        if (high != null) {
            q = q.or(high.lanewise(VectorOperators.LSHR, 4 * plane).and(0xF).lanewise(VectorOperators.LSHL, 4));
        }
        return (FloatVector) q.convert(VectorOperators.I2F, 0);
    }

    @Override
    public float dot(float[] a, int ao, float[] b, int len) {
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        int i = 0;
        for (; i <= len - 2 * L; i += 2 * L) {
            acc0 = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, i), acc0);
            acc1 = FloatVector.fromArray(F, a, ao + i + L).fma(FloatVector.fromArray(F, b, i + L), acc1);
        }
        for (; i <= len - L; i += L) {
            acc0 = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, i), acc0);
        }
        float s = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        for (; i < len; i++) {
            s += a[ao + i] * b[i];
        }
        return s;
    }
}

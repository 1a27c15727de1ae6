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

    /**
     * One pass: codes converted in registers straight into the FMAs, four accumulators (a chain
     * of eight dependent FMAs per chunk would wait on their latency), each group's sum scaled
     * into a vector total when the group changes, one reduction per row. A chunk of 4-bit codes
     * inside one group (the common, act-order-free case) takes the unrolled path, its decode written
     * out (a helper that C2 does not inline boxes its vectors).
     */
    @Override
    public float fusedDot(GroupQuantLayout w, int n, float[] xp, int xo, float[] xsum) {
        int[] packed = w.packed();
        int lo = n * w.planes() * w.planeInts();
        int hi = lo + w.planeInts();
        boolean twoPlanes = w.planes() == 2;
        int rowGroups = n * w.groups();
        int[] blockGroup = w.blockGroup();
        float[] scales = w.scales();
        int group = blockGroup[0];
        FloatVector total = FloatVector.zero(F);
        FloatVector a0 = total, a1 = total, a2 = total, a3 = total;
        for (int c = 0; c < w.chunks(); c++) {
            int wordBase = c * GroupQuantLayout.INTS_PER_CHUNK;
            int xb = xo + c * GroupQuantLayout.CHUNK;
            int first = blockGroup[c * 8];
            if (!twoPlanes && first == blockGroup[c * 8 + 7]) {
                if (first != group) {
                    total = a0.add(a1).add(a2.add(a3)).fma(FloatVector.broadcast(F, scales[rowGroups + group]), total);
                    a0 = FloatVector.zero(F);
                    a1 = a0;
                    a2 = a0;
                    a3 = a0;
                    group = first;
                }
                for (int h = 0; h < GroupQuantLayout.BLOCK; h += L) {
                    IntVector v = IntVector.fromArray(I, packed, lo + wordBase + h);
                    int x0 = xb + h;
                    a0 = ((FloatVector) v.and(0xF).convert(VectorOperators.I2F, 0))
                            .fma(FloatVector.fromArray(F, xp, x0), a0);
                    a1 = ((FloatVector) v.lanewise(VectorOperators.LSHR, 4).and(0xF).convert(VectorOperators.I2F, 0))
                            .fma(FloatVector.fromArray(F, xp, x0 + GroupQuantLayout.BLOCK), a1);
                    a2 = ((FloatVector) v.lanewise(VectorOperators.LSHR, 8).and(0xF).convert(VectorOperators.I2F, 0))
                            .fma(FloatVector.fromArray(F, xp, x0 + 2 * GroupQuantLayout.BLOCK), a2);
                    a3 = ((FloatVector) v.lanewise(VectorOperators.LSHR, 12).and(0xF).convert(VectorOperators.I2F, 0))
                            .fma(FloatVector.fromArray(F, xp, x0 + 3 * GroupQuantLayout.BLOCK), a3);
                    a0 = ((FloatVector) v.lanewise(VectorOperators.LSHR, 16).and(0xF).convert(VectorOperators.I2F, 0))
                            .fma(FloatVector.fromArray(F, xp, x0 + 4 * GroupQuantLayout.BLOCK), a0);
                    a1 = ((FloatVector) v.lanewise(VectorOperators.LSHR, 20).and(0xF).convert(VectorOperators.I2F, 0))
                            .fma(FloatVector.fromArray(F, xp, x0 + 5 * GroupQuantLayout.BLOCK), a1);
                    a2 = ((FloatVector) v.lanewise(VectorOperators.LSHR, 24).and(0xF).convert(VectorOperators.I2F, 0))
                            .fma(FloatVector.fromArray(F, xp, x0 + 6 * GroupQuantLayout.BLOCK), a2);
                    a3 = ((FloatVector) v.lanewise(VectorOperators.LSHR, 28).convert(VectorOperators.I2F, 0))
                            .fma(FloatVector.fromArray(F, xp, x0 + 7 * GroupQuantLayout.BLOCK), a3);
                }
                continue;
            }
            for (int h = 0; h < GroupQuantLayout.BLOCK; h += L) {
                IntVector low = IntVector.fromArray(I, packed, lo + wordBase + h);
                IntVector high = twoPlanes ? IntVector.fromArray(I, packed, hi + wordBase + h) : null;
                for (int plane = 0; plane < 8; plane++) {
                    int block = c * 8 + plane;
                    if (blockGroup[block] != group) {
                        total = a0.add(a1).add(a2.add(a3)).fma(FloatVector.broadcast(F, scales[rowGroups + group]), total);
                        a0 = FloatVector.zero(F);
                        a1 = a0;
                        a2 = a0;
                        a3 = a0;
                        group = blockGroup[block];
                    }
                    a0 = codes(low, high, plane).fma(FloatVector.fromArray(F, xp, xo + block * GroupQuantLayout.BLOCK + h), a0);
                }
            }
        }
        total = a0.add(a1).add(a2.add(a3)).fma(FloatVector.broadcast(F, scales[rowGroups + group]), total);
        return total.reduceLanes(VectorOperators.ADD) - GroupQuantKernels.zeroTerm(w, n, xsum);
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

package dev.tornadonn.jvm;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** {@link GroupQuantKernels} with the Vector API: a nibble plane unpacks to 16 consecutive weights. */
final class VectorGroupQuantKernels implements GroupQuantKernels {
    private static final VectorSpecies<Float> F = VectorKernels.F;
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final int L = F.length();
    private static final ByteOrder ORDER = GroupQuantLayout.ORDER;

    @Override
    public void decodeChunks(GroupQuantLayout w, int n, int c0, int count, float[] out, int at) {
        int planeInts = w.planeInts();
        MemorySegment packed = w.packed();
        int lo = n * w.planes() * planeInts;
        int hi = lo + planeInts;
        int rowGroups = n * w.groups();
        int[] blockGroup = w.blockGroup();
        float[] scales = w.scales();
        float[] zeros = w.zeros();
        int c1 = c0 + count;
        int shift = at - c0 * GroupQuantLayout.CHUNK;
        // One loop per plane count, neither with a vector that may be null: C2 boxes a vector
        // merged with null (each of them cost an allocation per decoded block).
        if (w.planes() == 1) {
            for (int c = c0; c < c1; c++) {
                int wordBase = lo + c * GroupQuantLayout.INTS_PER_CHUNK;
                for (int h = 0; h < GroupQuantLayout.BLOCK; h += L) {
                    IntVector low = IntVector.fromMemorySegment(I, packed, 4L * (wordBase + h), ORDER);
                    for (int plane = 0; plane < 8; plane++) {
                        int block = c * 8 + plane;
                        int g = rowGroups + blockGroup[block];
                        FloatVector v = (FloatVector) low.lanewise(VectorOperators.LSHR, 4 * plane).and(0xF)
                                .convert(VectorOperators.I2F, 0);
                        v.sub(zeros[g]).mul(scales[g]).intoArray(out, shift + block * GroupQuantLayout.BLOCK + h);
                    }
                }
            }
            return;
        }
        for (int c = c0; c < c1; c++) {
            int wordBase = c * GroupQuantLayout.INTS_PER_CHUNK;
            for (int h = 0; h < GroupQuantLayout.BLOCK; h += L) {
                IntVector low = IntVector.fromMemorySegment(I, packed, 4L * (lo + wordBase + h), ORDER);
                IntVector high = IntVector.fromMemorySegment(I, packed, 4L * (hi + wordBase + h), ORDER);
                for (int plane = 0; plane < 8; plane++) {
                    int block = c * 8 + plane;
                    int g = rowGroups + blockGroup[block];
                    FloatVector v = (FloatVector) low.lanewise(VectorOperators.LSHR, 4 * plane).and(0xF)
                            .or(high.lanewise(VectorOperators.LSHR, 4 * plane).and(0xF).lanewise(VectorOperators.LSHL, 4))
                            .convert(VectorOperators.I2F, 0);
                    v.sub(zeros[g]).mul(scales[g]).intoArray(out, shift + block * GroupQuantLayout.BLOCK + h);
                }
            }
        }
    }

    /**
     * One pass, for any layout: codes converted in registers straight into the products, each
     * block's products scaled by its group's scale as they are added into one of four totals (by
     * plane), one reduction per row. Scaling per block, not per group, leaves no vector to carry
     * across a change of group: a vector merged at such a join may be boxed. The decode is written
     * out (a helper that C2 does not inline boxes its vectors).
     */
    @Override
    public float fusedDot(GroupQuantLayout w, int n, float[] xp, int xo, float[] xsum) {
        float dot = w.planes() == 1 ? onePlaneDot(w, n, xp, xo) : twoPlaneDot(w, n, xp, xo);
        return dot - GroupQuantKernels.zeroTerm(w, n, xsum);
    }

    private static float onePlaneDot(GroupQuantLayout w, int n, float[] xp, int xo) {
        MemorySegment packed = w.packed();
        int lo = n * w.planeInts();
        int rowGroups = n * w.groups();
        int[] blockGroup = w.blockGroup();
        float[] scales = w.scales();
        int chunks = w.chunks();
        FloatVector t0 = FloatVector.zero(F), t1 = t0, t2 = t0, t3 = t0;
        for (int c = 0; c < chunks; c++) {
            int wordBase = lo + c * GroupQuantLayout.INTS_PER_CHUNK;
            int xb = xo + c * GroupQuantLayout.CHUNK;
            FloatVector s0 = FloatVector.broadcast(F, scales[rowGroups + blockGroup[c * 8 + 0]]);
            FloatVector s1 = FloatVector.broadcast(F, scales[rowGroups + blockGroup[c * 8 + 1]]);
            FloatVector s2 = FloatVector.broadcast(F, scales[rowGroups + blockGroup[c * 8 + 2]]);
            FloatVector s3 = FloatVector.broadcast(F, scales[rowGroups + blockGroup[c * 8 + 3]]);
            FloatVector s4 = FloatVector.broadcast(F, scales[rowGroups + blockGroup[c * 8 + 4]]);
            FloatVector s5 = FloatVector.broadcast(F, scales[rowGroups + blockGroup[c * 8 + 5]]);
            FloatVector s6 = FloatVector.broadcast(F, scales[rowGroups + blockGroup[c * 8 + 6]]);
            FloatVector s7 = FloatVector.broadcast(F, scales[rowGroups + blockGroup[c * 8 + 7]]);
            for (int h = 0; h < GroupQuantLayout.BLOCK; h += L) {
                IntVector v = IntVector.fromMemorySegment(I, packed, 4L * (wordBase + h), ORDER);
                int x0 = xb + h;
                t0 = ((FloatVector) v.and(0xF).convert(VectorOperators.I2F, 0))
                        .mul(FloatVector.fromArray(F, xp, x0)).fma(s0, t0);
                t1 = ((FloatVector) v.lanewise(VectorOperators.LSHR, 4).and(0xF).convert(VectorOperators.I2F, 0))
                        .mul(FloatVector.fromArray(F, xp, x0 + GroupQuantLayout.BLOCK)).fma(s1, t1);
                t2 = ((FloatVector) v.lanewise(VectorOperators.LSHR, 8).and(0xF).convert(VectorOperators.I2F, 0))
                        .mul(FloatVector.fromArray(F, xp, x0 + 2 * GroupQuantLayout.BLOCK)).fma(s2, t2);
                t3 = ((FloatVector) v.lanewise(VectorOperators.LSHR, 12).and(0xF).convert(VectorOperators.I2F, 0))
                        .mul(FloatVector.fromArray(F, xp, x0 + 3 * GroupQuantLayout.BLOCK)).fma(s3, t3);
                t0 = ((FloatVector) v.lanewise(VectorOperators.LSHR, 16).and(0xF).convert(VectorOperators.I2F, 0))
                        .mul(FloatVector.fromArray(F, xp, x0 + 4 * GroupQuantLayout.BLOCK)).fma(s4, t0);
                t1 = ((FloatVector) v.lanewise(VectorOperators.LSHR, 20).and(0xF).convert(VectorOperators.I2F, 0))
                        .mul(FloatVector.fromArray(F, xp, x0 + 5 * GroupQuantLayout.BLOCK)).fma(s5, t1);
                t2 = ((FloatVector) v.lanewise(VectorOperators.LSHR, 24).and(0xF).convert(VectorOperators.I2F, 0))
                        .mul(FloatVector.fromArray(F, xp, x0 + 6 * GroupQuantLayout.BLOCK)).fma(s6, t2);
                t3 = ((FloatVector) v.lanewise(VectorOperators.LSHR, 28).convert(VectorOperators.I2F, 0))
                        .mul(FloatVector.fromArray(F, xp, x0 + 7 * GroupQuantLayout.BLOCK)).fma(s7, t3);
            }
        }
        return t0.add(t1).add(t2.add(t3)).reduceLanes(VectorOperators.ADD);
    }

    /** As {@link #onePlaneDot}, a code's high nibble from the second plane. */
    private static float twoPlaneDot(GroupQuantLayout w, int n, float[] xp, int xo) {
        MemorySegment packed = w.packed();
        int planeInts = w.planeInts();
        int lo = n * 2 * planeInts;
        int hi = lo + planeInts;
        int rowGroups = n * w.groups();
        int[] blockGroup = w.blockGroup();
        float[] scales = w.scales();
        int chunks = w.chunks();
        FloatVector t0 = FloatVector.zero(F), t1 = t0, t2 = t0, t3 = t0;
        for (int c = 0; c < chunks; c++) {
            int wordBase = c * GroupQuantLayout.INTS_PER_CHUNK;
            int xb = xo + c * GroupQuantLayout.CHUNK;
            FloatVector s0 = FloatVector.broadcast(F, scales[rowGroups + blockGroup[c * 8 + 0]]);
            FloatVector s1 = FloatVector.broadcast(F, scales[rowGroups + blockGroup[c * 8 + 1]]);
            FloatVector s2 = FloatVector.broadcast(F, scales[rowGroups + blockGroup[c * 8 + 2]]);
            FloatVector s3 = FloatVector.broadcast(F, scales[rowGroups + blockGroup[c * 8 + 3]]);
            FloatVector s4 = FloatVector.broadcast(F, scales[rowGroups + blockGroup[c * 8 + 4]]);
            FloatVector s5 = FloatVector.broadcast(F, scales[rowGroups + blockGroup[c * 8 + 5]]);
            FloatVector s6 = FloatVector.broadcast(F, scales[rowGroups + blockGroup[c * 8 + 6]]);
            FloatVector s7 = FloatVector.broadcast(F, scales[rowGroups + blockGroup[c * 8 + 7]]);
            for (int h = 0; h < GroupQuantLayout.BLOCK; h += L) {
                IntVector low = IntVector.fromMemorySegment(I, packed, 4L * (lo + wordBase + h), ORDER);
                IntVector high = IntVector.fromMemorySegment(I, packed, 4L * (hi + wordBase + h), ORDER);
                int x0 = xb + h;
                t0 = ((FloatVector) low.and(0xF).or(high.and(0xF).lanewise(VectorOperators.LSHL, 4))
                        .convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, xp, x0)).fma(s0, t0);
                t1 = ((FloatVector) low.lanewise(VectorOperators.LSHR, 4).and(0xF).or(high.lanewise(VectorOperators.LSHR, 4).and(0xF).lanewise(VectorOperators.LSHL, 4))
                        .convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, xp, x0 + GroupQuantLayout.BLOCK)).fma(s1, t1);
                t2 = ((FloatVector) low.lanewise(VectorOperators.LSHR, 8).and(0xF).or(high.lanewise(VectorOperators.LSHR, 8).and(0xF).lanewise(VectorOperators.LSHL, 4))
                        .convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, xp, x0 + 2 * GroupQuantLayout.BLOCK)).fma(s2, t2);
                t3 = ((FloatVector) low.lanewise(VectorOperators.LSHR, 12).and(0xF).or(high.lanewise(VectorOperators.LSHR, 12).and(0xF).lanewise(VectorOperators.LSHL, 4))
                        .convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, xp, x0 + 3 * GroupQuantLayout.BLOCK)).fma(s3, t3);
                t0 = ((FloatVector) low.lanewise(VectorOperators.LSHR, 16).and(0xF).or(high.lanewise(VectorOperators.LSHR, 16).and(0xF).lanewise(VectorOperators.LSHL, 4))
                        .convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, xp, x0 + 4 * GroupQuantLayout.BLOCK)).fma(s4, t0);
                t1 = ((FloatVector) low.lanewise(VectorOperators.LSHR, 20).and(0xF).or(high.lanewise(VectorOperators.LSHR, 20).and(0xF).lanewise(VectorOperators.LSHL, 4))
                        .convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, xp, x0 + 5 * GroupQuantLayout.BLOCK)).fma(s5, t1);
                t2 = ((FloatVector) low.lanewise(VectorOperators.LSHR, 24).and(0xF).or(high.lanewise(VectorOperators.LSHR, 24).and(0xF).lanewise(VectorOperators.LSHL, 4))
                        .convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, xp, x0 + 6 * GroupQuantLayout.BLOCK)).fma(s6, t2);
                t3 = ((FloatVector) low.lanewise(VectorOperators.LSHR, 28).or(high.lanewise(VectorOperators.LSHR, 28).lanewise(VectorOperators.LSHL, 4))
                        .convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, xp, x0 + 7 * GroupQuantLayout.BLOCK)).fma(s7, t3);
            }
        }
        return t0.add(t1).add(t2.add(t3)).reduceLanes(VectorOperators.ADD);
    }

    /**
     * Plane p of a chunk is decoded by masking it in place, {@code q·16^p} as an int, converted
     * exactly (four significant bits); x of plane p is scaled by {@code 16^−p} to match. That drops
     * the shift per plane but the last, whose top nibble would be negative as an int and is
     * shifted down instead. Exact but for |x| below about 2^−102, whose low bits may go.
     */
    /**
     * Each run of blocks in one group (a whole group when groups are contiguous) summed in
     * vectors and reduced once: a scalar sum per 16-column block was most of a small GEMV's time.
     */
    @Override
    public void groupSums(GroupQuantLayout w, float[] xp, float[] xsum) {
        java.util.Arrays.fill(xsum, 0, w.groups(), 0f);
        int[] blockGroup = w.blockGroup();
        int b = 0;
        while (b < blockGroup.length) {
            int g = blockGroup[b];
            int end = b + 1;
            while (end < blockGroup.length && blockGroup[end] == g) {
                end++;
            }
            xsum[g] += sum(xp, b * GroupQuantLayout.BLOCK, end * GroupQuantLayout.BLOCK);
            b = end;
        }
    }

    /** {@code Σ a[from .. to)}, to − from a multiple of the vector length. */
    private static float sum(float[] a, int from, int to) {
        FloatVector acc = FloatVector.zero(F);
        for (int i = from; i < to; i += L) {
            acc = acc.add(FloatVector.fromArray(F, a, i));
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    @Override
    public float[] arrangeInput(GroupQuantLayout w, float[] xp) {
        if (!fourRowPath(w)) {
            return xp;
        }
        int kp = w.paddedCols();
        float[] xa = Scratch.current().floats(ARRANGED_X, kp);
        for (int c = 0; c < kp; c += GroupQuantLayout.CHUNK) {
            for (int plane = 0; plane < 8; plane++) {
                float scale = PLANE_SCALE[plane];
                int from = c + plane * GroupQuantLayout.BLOCK;
                for (int i = from; i < from + GroupQuantLayout.BLOCK; i += L) {
                    FloatVector.fromArray(F, xp, i).mul(scale).intoArray(xa, i);
                }
            }
        }
        return xa;
    }

    /**
     * {@code 16^−p} for planes 0 to 6, and 1 for plane 7 (shifted down instead): powers of two, so
     * each product is exact (rounded once, as {@code Math.scalb} rounds, only below f32's normal
     * range), at a multiply per element.
     */
    private static final float[] PLANE_SCALE = {1f, 0x1p-4f, 0x1p-8f, 0x1p-12f, 0x1p-16f, 0x1p-20f, 0x1p-24f, 1f};

    private static final Scratch.Key ARRANGED_X = Scratch.key("x scaled per nibble plane for the 4-bit GEMV");
    private static final Scratch.Key ONE = Scratch.key("the 4-bit GEMV's results for one row repeated");

    /** 4-bit codes with every chunk in one group: the common GPTQ case. */
    private static boolean fourRowPath(GroupQuantLayout w) {
        return w.planes() == 1 && w.chunksInOneGroup();
    }

    @Override
    public void rowsTimesX(GroupQuantLayout w, int n, int rows, float[] xp, float[] xa, float[] xsum, float[] out) {
        if (!fourRowPath(w)) {
            for (int r = 0; r < rows; r++) {
                out[r] = fusedDot(w, n + r, xp, 0, xsum);
            }
            return;
        }
        if (rows == ROWS) {
            fourRows(w, n, w.planeInts(), w.groups(), xa, xsum, out);
            return;
        }
        float[] one = Scratch.current().floats(ONE, ROWS);
        for (int r = 0; r < rows; r++) { // one row repeated (stride 0), one result kept
            fourRows(w, n + r, 0, 0, xa, xsum, one);
            out[r] = one[0];
        }
    }

    /**
     * Rows {@code n + r}, r below 4, the packed ints {@code stride} apart and the scales
     * {@code groupStride} apart: each x vector is loaded once for all four, and four address
     * streams keep more fetches in flight. Each step's codes are loaded one step ahead. A chunk's
     * eight planes go into two sums (two shorter dependency chains), scaled into the row's total
     * once per chunk; the zero points' share is taken off in vectors at the end, one reduction per row.
     */
    private static void fourRows(GroupQuantLayout w, int n, int stride, int groupStride, float[] xa, float[] xsum,
                                 float[] out) {
        MemorySegment packed = w.packed();
        int[] blockGroup = w.blockGroup();
        float[] scales = w.scales();
        float[] zeros = w.zeros();
        int groups = w.groups();
        // Read before the loop: C2 reaches its inlining node budget in this method, and a call left
        // in the loop (it was chunks() in the loop test) makes it spill every live vector per chunk.
        int planeInts = w.planeInts();
        int p0 = n * planeInts, p1 = p0 + stride, p2 = p1 + stride, p3 = p2 + stride;
        int s0 = n * groups, s1 = s0 + groupStride, s2 = s1 + groupStride, s3 = s2 + groupStride;
        FloatVector t0 = FloatVector.zero(F), t1 = t0, t2 = t0, t3 = t0;
        // Each step decodes the codes loaded one step before and loads the next step's (the last
        // step reloads its own): the loads' latency hides behind a step of arithmetic.
        IntVector n0 = IntVector.fromMemorySegment(I, packed, 4L * (p0), ORDER), n1 = IntVector.fromMemorySegment(I, packed, 4L * (p1), ORDER);
        IntVector n2 = IntVector.fromMemorySegment(I, packed, 4L * (p2), ORDER), n3 = IntVector.fromMemorySegment(I, packed, 4L * (p3), ORDER);
        for (int o = 0; o < planeInts; o += L) { // o: chunk c's ints at c·INTS_PER_CHUNK, h lanes in
            int c = o / GroupQuantLayout.INTS_PER_CHUNK;
            int h = o % GroupQuantLayout.INTS_PER_CHUNK;
            int xb = c * GroupQuantLayout.CHUNK;
            int g = blockGroup[c * 8];
            IntVector q0 = n0, q1 = n1, q2 = n2, q3 = n3;
            int next = Math.min(o + L, planeInts - L);
            n0 = IntVector.fromMemorySegment(I, packed, 4L * (p0 + next), ORDER);
            n1 = IntVector.fromMemorySegment(I, packed, 4L * (p1 + next), ORDER);
            n2 = IntVector.fromMemorySegment(I, packed, 4L * (p2 + next), ORDER);
            n3 = IntVector.fromMemorySegment(I, packed, 4L * (p3 + next), ORDER);
            FloatVector x0 = FloatVector.fromArray(F, xa, xb + h);
            FloatVector x1 = FloatVector.fromArray(F, xa, xb + GroupQuantLayout.BLOCK + h);
            FloatVector x2 = FloatVector.fromArray(F, xa, xb + 2 * GroupQuantLayout.BLOCK + h);
            FloatVector x3 = FloatVector.fromArray(F, xa, xb + 3 * GroupQuantLayout.BLOCK + h);
            FloatVector x4 = FloatVector.fromArray(F, xa, xb + 4 * GroupQuantLayout.BLOCK + h);
            FloatVector x5 = FloatVector.fromArray(F, xa, xb + 5 * GroupQuantLayout.BLOCK + h);
            FloatVector x6 = FloatVector.fromArray(F, xa, xb + 6 * GroupQuantLayout.BLOCK + h);
            FloatVector x7 = FloatVector.fromArray(F, xa, xb + 7 * GroupQuantLayout.BLOCK + h);
            FloatVector a, b;
            a = ((FloatVector) q0.and(0xF).convert(VectorOperators.I2F, 0)).mul(x0);
            b = ((FloatVector) q0.and(0xF0).convert(VectorOperators.I2F, 0)).mul(x1);
            a = ((FloatVector) q0.and(0xF00).convert(VectorOperators.I2F, 0)).fma(x2, a);
            b = ((FloatVector) q0.and(0xF000).convert(VectorOperators.I2F, 0)).fma(x3, b);
            a = ((FloatVector) q0.and(0xF0000).convert(VectorOperators.I2F, 0)).fma(x4, a);
            b = ((FloatVector) q0.and(0xF00000).convert(VectorOperators.I2F, 0)).fma(x5, b);
            a = ((FloatVector) q0.and(0xF000000).convert(VectorOperators.I2F, 0)).fma(x6, a);
            b = ((FloatVector) q0.lanewise(VectorOperators.LSHR, 28).convert(VectorOperators.I2F, 0)).fma(x7, b);
            t0 = a.add(b).fma(FloatVector.broadcast(F, scales[s0 + g]), t0);
            a = ((FloatVector) q1.and(0xF).convert(VectorOperators.I2F, 0)).mul(x0);
            b = ((FloatVector) q1.and(0xF0).convert(VectorOperators.I2F, 0)).mul(x1);
            a = ((FloatVector) q1.and(0xF00).convert(VectorOperators.I2F, 0)).fma(x2, a);
            b = ((FloatVector) q1.and(0xF000).convert(VectorOperators.I2F, 0)).fma(x3, b);
            a = ((FloatVector) q1.and(0xF0000).convert(VectorOperators.I2F, 0)).fma(x4, a);
            b = ((FloatVector) q1.and(0xF00000).convert(VectorOperators.I2F, 0)).fma(x5, b);
            a = ((FloatVector) q1.and(0xF000000).convert(VectorOperators.I2F, 0)).fma(x6, a);
            b = ((FloatVector) q1.lanewise(VectorOperators.LSHR, 28).convert(VectorOperators.I2F, 0)).fma(x7, b);
            t1 = a.add(b).fma(FloatVector.broadcast(F, scales[s1 + g]), t1);
            a = ((FloatVector) q2.and(0xF).convert(VectorOperators.I2F, 0)).mul(x0);
            b = ((FloatVector) q2.and(0xF0).convert(VectorOperators.I2F, 0)).mul(x1);
            a = ((FloatVector) q2.and(0xF00).convert(VectorOperators.I2F, 0)).fma(x2, a);
            b = ((FloatVector) q2.and(0xF000).convert(VectorOperators.I2F, 0)).fma(x3, b);
            a = ((FloatVector) q2.and(0xF0000).convert(VectorOperators.I2F, 0)).fma(x4, a);
            b = ((FloatVector) q2.and(0xF00000).convert(VectorOperators.I2F, 0)).fma(x5, b);
            a = ((FloatVector) q2.and(0xF000000).convert(VectorOperators.I2F, 0)).fma(x6, a);
            b = ((FloatVector) q2.lanewise(VectorOperators.LSHR, 28).convert(VectorOperators.I2F, 0)).fma(x7, b);
            t2 = a.add(b).fma(FloatVector.broadcast(F, scales[s2 + g]), t2);
            a = ((FloatVector) q3.and(0xF).convert(VectorOperators.I2F, 0)).mul(x0);
            b = ((FloatVector) q3.and(0xF0).convert(VectorOperators.I2F, 0)).mul(x1);
            a = ((FloatVector) q3.and(0xF00).convert(VectorOperators.I2F, 0)).fma(x2, a);
            b = ((FloatVector) q3.and(0xF000).convert(VectorOperators.I2F, 0)).fma(x3, b);
            a = ((FloatVector) q3.and(0xF0000).convert(VectorOperators.I2F, 0)).fma(x4, a);
            b = ((FloatVector) q3.and(0xF00000).convert(VectorOperators.I2F, 0)).fma(x5, b);
            a = ((FloatVector) q3.and(0xF000000).convert(VectorOperators.I2F, 0)).fma(x6, a);
            b = ((FloatVector) q3.lanewise(VectorOperators.LSHR, 28).convert(VectorOperators.I2F, 0)).fma(x7, b);
            t3 = a.add(b).fma(FloatVector.broadcast(F, scales[s3 + g]), t3);
        }
        // The zero points' share in a method of its own, keeping this one (near C2's node budget,
        // past which C2 stops inlining) smaller.
        out[0] = t0.reduceLanes(VectorOperators.ADD) - zeroShare(scales, zeros, s0, xsum, groups);
        out[1] = t1.reduceLanes(VectorOperators.ADD) - zeroShare(scales, zeros, s1, xsum, groups);
        out[2] = t2.reduceLanes(VectorOperators.ADD) - zeroShare(scales, zeros, s2, xsum, groups);
        out[3] = t3.reduceLanes(VectorOperators.ADD) - zeroShare(scales, zeros, s3, xsum, groups);
    }

    /** {@code Σ_g scale[base + g]·zero[base + g]·xsum[g]}, in vectors. */
    private static float zeroShare(float[] scales, float[] zeros, int base, float[] xsum, int groups) {
        FloatVector acc = FloatVector.zero(F);
        int g = 0;
        for (; g <= groups - L; g += L) {
            acc = FloatVector.fromArray(F, scales, base + g).mul(FloatVector.fromArray(F, zeros, base + g))
                    .fma(FloatVector.fromArray(F, xsum, g), acc);
        }
        float z = acc.reduceLanes(VectorOperators.ADD);
        for (; g < groups; g++) {
            z += scales[base + g] * zeros[base + g] * xsum[g];
        }
        return z;
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

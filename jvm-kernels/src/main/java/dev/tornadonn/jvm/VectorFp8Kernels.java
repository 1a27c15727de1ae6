package dev.tornadonn.jvm;

import dev.tornadonn.core.numeric.Float8Format;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Fp8Kernels} with the Vector API. Decoding is arithmetic rather than a table gather:
 * the magnitude bits shifted into an f32's exponent/mantissa position give the value times
 * {@code 2^(bias − 127)}, exactly, and a normal f32 because the layout keeps no subnormal codes;
 * in {@link #decodeRow} the format's specials (NaN, and e5m2's infinities) are patched in with a
 * mask.
 *
 * <p>{@link #rowsTimesX} decodes in registers, straight into the FMAs, {@value Fp8Kernels#ROWS}
 * weight rows at a time sharing each x load: {@code 2·lanes} codes widen, sign-extended, to
 * 16-bit halves of int lanes (one operation), and the even codes (low halves) and the odd ones
 * (high halves) each take a shift and an and: seven operations per {@code 2·lanes} weights with
 * the two FMAs, where widening to ints took eight. x is split to match (per segment, per block of
 * {@code 2·lanes} columns: its even columns, then its odd ones) and scaled by 2^32 up front so
 * that no product is subnormal; the format's power of two is applied once per segment.
 */
final class VectorFp8Kernels implements Fp8Kernels {
    private static final VectorSpecies<Float> F = VectorKernels.F;
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final int L = F.length();
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, L * 8)));
    private static final int ROWS = Fp8Kernels.ROWS;
    private static final int PARTS = B.length() / L;
    /** {@code 2·lanes} codes, widened at once to as many 16-bit lanes. */
    private static final VectorSpecies<Byte> PAIR_BYTES = VectorSpecies.of(byte.class, VectorShape.forBitSize(16 * L));
    private static final VectorSpecies<Short> PAIR_SHORTS = VectorSpecies.of(short.class, F.vectorShape());
    private static final Fp8Kernels SCALAR_TAIL = new Fp8Kernels.Scalar();

    @Override
    public void decodeColumns(Fp8Layout w, int n, int from, int len, float[] out, int at) {
        boolean fn = w.format() == Float8Format.E4M3FN;
        int shift = fn ? 20 : 21;
        float rebias = fn ? 0x1p120f : 0x1p112f;
        int expMask = fn ? 0x78 : 0x7C;
        MemorySegment codes = w.codes();
        long base = (long) n * w.cols() + from;
        int k = len;
        int c = 0;
        if (!w.hasSpecials()) {
            // The sign-extended byte, shifted so its magnitude lands on the f32 exponent/mantissa
            // and its sign on bit 31: four integer operations and one multiply per vector.
            int down = 24 - shift;
            int keep = 0x80000000 | (0x7F << shift);
            for (; c <= k - B.length(); c += B.length()) {
                ByteVector bytes = ByteVector.fromMemorySegment(B, codes, base + c, ByteOrder.LITTLE_ENDIAN);
                for (int p = 0; p < PARTS; p++) {
                    IntVector b = (IntVector) bytes.convertShape(VectorOperators.B2I, I, p);
                    IntVector bits = b.lanewise(VectorOperators.LSHL, 24).lanewise(VectorOperators.ASHR, down).and(keep);
                    bits.reinterpretAsFloats().mul(rebias).intoArray(out, at + c + p * L);
                }
            }
        }
        for (; c <= k - B.length(); c += B.length()) {
            ByteVector bytes = ByteVector.fromMemorySegment(B, codes, base + c, ByteOrder.LITTLE_ENDIAN);
            for (int p = 0; p < PARTS; p++) {
                IntVector b = ((IntVector) bytes.convertShape(VectorOperators.B2I, I, p)).and(0xFF);
                IntVector mag = b.and(0x7F);
                IntVector bits = mag.lanewise(VectorOperators.LSHL, shift);
                VectorMask<Integer> special = fn ? mag.eq(0x7F) : mag.and(expMask).eq(expMask);
                // e4m3fn's only special is NaN; e5m2's top exponent is inf (m = 0) or NaN, as in f32.
                IntVector specialBits = fn ? IntVector.broadcast(I, 0x7FC00000) : bits.and(0x7FFFFF).or(0x7F800000);
                FloatVector v = bits.blend(specialBits, special).reinterpretAsFloats().mul(rebias);
                IntVector signed = v.reinterpretAsInts().or(b.and(0x80).lanewise(VectorOperators.LSHL, 24));
                signed.reinterpretAsFloats().intoArray(out, at + c + p * L);
            }
        }
        for (; c < k; c++) {
            out[at + c] = w.format().toFloat(codes.get(ValueLayout.JAVA_BYTE, base + c));
        }
        Fp8Kernels.patchSubnormals(w, n, from, len, out, at);
    }

    @Override
    public void quantiseInput(float[] x, int m, Fp8Layout w, float[] xq, float[] sx) {
        Fp8Activations.quantise(x, m, w, xq, sx, ROUNDING);
    }

    static final Fp8Activations.Rounding ROUNDING = new VectorRounding();

    /**
     * {@link Float8Format#round} in vectors: the normal range rounds the f32 bits to the format's
     * mantissa (ties to even), the subnormal range by adding and taking off a power of two, then
     * saturation, infinities (e5m2) and NaNs as the scalar method leaves them, and the sign.
     */
    private static final class VectorRounding implements Fp8Activations.Rounding {
        @Override
        public float absMax(float[] x, int from, int to) {
            FloatVector acc = FloatVector.zero(F);
            int i = from;
            for (; i <= to - L; i += L) {
                acc = acc.max(FloatVector.fromArray(F, x, i).abs());
            }
            float a = acc.reduceLanes(VectorOperators.MAX);
            for (; i < to; i++) {
                a = Math.max(a, Math.abs(x[i]));
            }
            return a;
        }

        @Override
        public void round(float[] x, int from, int to, float inv, Float8Format f, float[] xq) {
            int drop = 23 - f.mantissaBits();
            int half = (1 << (drop - 1)) - 1;
            int keep = -1 << drop;
            float max = f.max();
            float minNormal = f.minNormal();
            float rounder = f.subnormalRounder();
            float saturated = f.hasInfinities() ? Float.POSITIVE_INFINITY : max;
            int i = from;
            for (; i <= to - L; i += L) {
                FloatVector v = FloatVector.fromArray(F, x, i).mul(inv);
                FloatVector abs = v.abs();
                IntVector bits = abs.reinterpretAsInts();
                FloatVector r = bits.add(half).add(bits.lanewise(VectorOperators.LSHR, drop).and(1)).and(keep)
                        .reinterpretAsFloats();
                r = r.blend(abs.add(rounder).sub(rounder), abs.lt(minNormal))
                        .blend(max, abs.compare(VectorOperators.GE, max))
                        .blend(saturated, abs.eq(Float.POSITIVE_INFINITY))
                        .blend(abs, abs.test(VectorOperators.IS_NAN));
                r.reinterpretAsInts().or(v.reinterpretAsInts().and(0x80000000)).reinterpretAsFloats().intoArray(xq, i);
            }
            for (; i < to; i++) {
                xq[i] = f.round(x[i] * inv);
            }
        }
    }

    private static final float X_SCALE = 0x1p32f;

    /**
     * The rows split per segment as {@link #rows} reads them, scaled by 2^32, in the calling
     * thread's scratch.
     */
    @Override
    public float[] arrangeInput(Fp8Layout w, float[] xq, int m) {
        int k = w.cols();
        int[] start = w.segmentStart();
        float[] xa = Scratch.current().floats(ARRANGED_X, Math.multiplyExact(m, k));
        for (int row = 0; row < m * k; row += k) {
            for (int s = 0; s < w.segments(); s++) {
                int c = start[s];
                for (; c <= start[s + 1] - 2 * L; c += 2 * L) {
                    for (int l = 0; l < L; l++) {
                        xa[row + c + l] = xq[row + c + 2 * l] * X_SCALE;
                        xa[row + c + L + l] = xq[row + c + 2 * l + 1] * X_SCALE;
                    }
                }
                for (; c < start[s + 1]; c++) {
                    xa[row + c] = xq[row + c] * X_SCALE;
                }
            }
        }
        return xa;
    }

    private static final Scratch.Key ARRANGED_X = Scratch.key("fp8 x split per segment for the GEMV");
    private static final Scratch.Key ONE = Scratch.key("the fp8 GEMV's results for one row repeated");
    private static final Scratch.Key ROW_SUMS = Scratch.key("the fp8 GEMV's per-row sums");
    private static final Scratch.Key ROW_SCALES = Scratch.key("the fp8 GEMV's per-row scales");
    private static final Scratch.Key TAIL_SUMS = Scratch.key("the fp8 GEMV's per-row tail sums");

    @Override
    public void rowsTimesX(Fp8Layout w, int n, int count, float[] xa, float[] xq, int xo, float[] sx, int so,
                           float[] out) {
        Scratch scratch = Scratch.current();
        float[] e = scratch.floats(ROW_SUMS, ROWS);
        float[] wr = scratch.floats(ROW_SCALES, ROWS);
        float[] p = scratch.floats(TAIL_SUMS, ROWS);
        float[] sums = scratch.floats(SEGMENT_SUMS, ROWS * L);
        float[] totals = scratch.floats(ROW_TOTALS, ROWS * L);
        if (count == ROWS) {
            rows(w, n, w.cols(), xa, xq, xo, sx, so, out, e, wr, p, sums, totals);
            return;
        }
        float[] one = scratch.floats(ONE, ROWS);
        for (int r = 0; r < count; r++) { // one row repeated (stride 0), one result kept
            rows(w, n + r, 0, xa, xq, xo, sx, so, one, e, wr, p, sums, totals);
            out[r] = one[0];
        }
    }

    private static final Scratch.Key SEGMENT_SUMS = Scratch.key("the fp8 GEMV's per-row vector sums of one segment");
    private static final Scratch.Key ROW_TOTALS = Scratch.key("the fp8 GEMV's per-row vector totals");

    /**
     * The rows at code offsets {@code n·cols + r·stride}, r below {@value Fp8Kernels#ROWS}, times x,
     * a segment at a time: {@link #segment} sums the products in vectors and stores them in
     * {@code sums}, and the segment's scales are applied here. The hot loop is a method of its own:
     * with the scaling and the reductions in it too, C2 reached its inlining node budget in some
     * JVMs (NodeCountInliningCutoff in -XX:+LogCompilation), left an fma call un-inlined and boxed
     * its vectors, allocating on every call.
     */
    private static void rows(Fp8Layout w, int n, int stride, float[] xa, float[] xq, int xo, float[] sx, int so,
                             float[] out, float[] e, float[] wr, float[] p, float[] sums, float[] totals) {
        boolean fn = w.format() == Float8Format.E4M3FN;
        // Sign to bit 31 by sign extension, magnitude to the f32 exponent/mantissa by the shift.
        int keep = fn ? 0x87F00000 : 0x8FE00000;
        int sh = fn ? 20 : 21;
        float unscale = (fn ? 0x1p120f : 0x1p112f) / X_SCALE;
        MemorySegment codes = w.codes();
        int k = w.cols();
        int segs = w.segments();
        int[] start = w.segmentStart();
        float[] ws = w.weightScales();
        int rowStep = stride == 0 ? 0 : 1;
        int c0 = n * k;
        Arrays.fill(e, 0, ROWS, 0f);
        Arrays.fill(totals, 0, ROWS * L, 0f);
        for (int s = 0; s < segs; s++) {
            int end = start[s + 1];
            int c = segment(codes, c0, stride, start[s], end, xa, xo, sh, keep, sums);
            float sxs = sx[so + s];
            tailDots(codes, c0, stride, c, end, xa, xo, sh, keep, p);
            for (int r = 0; r < ROWS; r++) {
                wr[r] = sxs * ws[(n + r * rowStep) * segs + s];
                e[r] += p[r] * unscale * wr[r];
                FloatVector.fromArray(F, sums, r * L).mul(unscale).fma(FloatVector.broadcast(F, wr[r]),
                        FloatVector.fromArray(F, totals, r * L)).intoArray(totals, r * L);
            }
        }
        for (int r = 0; r < ROWS; r++) {
            out[r] = FloatVector.fromArray(F, totals, r * L).reduceLanes(VectorOperators.ADD) + e[r]
                    + subnormals(w, n + r * rowStep, xq, xo, sx, so);
        }
    }

    /**
     * Columns {@code [from, end)} of the eight rows at {@code c0 + r·stride}, {@code 2·lanes} at a
     * time, times x: each row's sum vector into {@code sums[r·lanes ..]}; returns the first column
     * left over (fewer than {@code 2·lanes} before {@code end}). Eight address streams keep more
     * memory fetches in flight than four (the GEMV is limited by how many one core has
     * outstanding), and each x vector is loaded once for all eight. Written out: a decode helper
     * that C2 does not inline boxes its vectors.
     */
    private static int segment(MemorySegment codes, int c0, int stride, int from, int end, float[] xa, int xo, int sh,
                               int keep, float[] sums) {
        // The even code's sign-extended half shifted by sh, the odd one's by sh − 16.
        int oddShift = sh - 16;
        int c1 = c0 + stride;
        int c2 = c1 + stride;
        int c3 = c2 + stride;
        int c4 = c3 + stride;
        int c5 = c4 + stride;
        int c6 = c5 + stride;
        int c7 = c6 + stride;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        int c = from;
        for (; c <= end - 2 * L; c += 2 * L) {
            FloatVector xe = FloatVector.fromArray(F, xa, xo + c);
            FloatVector xd = FloatVector.fromArray(F, xa, xo + c + L);
            IntVector v;
            v = ((ShortVector) ByteVector.fromMemorySegment(PAIR_BYTES, codes, c0 + c, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.B2S, PAIR_SHORTS, 0)).reinterpretAsInts();
            a0 = xd.fma(v.lanewise(VectorOperators.LSHL, oddShift).and(keep).reinterpretAsFloats(),
                    xe.fma(v.lanewise(VectorOperators.LSHL, sh).and(keep).reinterpretAsFloats(), a0));
            v = ((ShortVector) ByteVector.fromMemorySegment(PAIR_BYTES, codes, c1 + c, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.B2S, PAIR_SHORTS, 0)).reinterpretAsInts();
            a1 = xd.fma(v.lanewise(VectorOperators.LSHL, oddShift).and(keep).reinterpretAsFloats(),
                    xe.fma(v.lanewise(VectorOperators.LSHL, sh).and(keep).reinterpretAsFloats(), a1));
            v = ((ShortVector) ByteVector.fromMemorySegment(PAIR_BYTES, codes, c2 + c, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.B2S, PAIR_SHORTS, 0)).reinterpretAsInts();
            a2 = xd.fma(v.lanewise(VectorOperators.LSHL, oddShift).and(keep).reinterpretAsFloats(),
                    xe.fma(v.lanewise(VectorOperators.LSHL, sh).and(keep).reinterpretAsFloats(), a2));
            v = ((ShortVector) ByteVector.fromMemorySegment(PAIR_BYTES, codes, c3 + c, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.B2S, PAIR_SHORTS, 0)).reinterpretAsInts();
            a3 = xd.fma(v.lanewise(VectorOperators.LSHL, oddShift).and(keep).reinterpretAsFloats(),
                    xe.fma(v.lanewise(VectorOperators.LSHL, sh).and(keep).reinterpretAsFloats(), a3));
            v = ((ShortVector) ByteVector.fromMemorySegment(PAIR_BYTES, codes, c4 + c, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.B2S, PAIR_SHORTS, 0)).reinterpretAsInts();
            a4 = xd.fma(v.lanewise(VectorOperators.LSHL, oddShift).and(keep).reinterpretAsFloats(),
                    xe.fma(v.lanewise(VectorOperators.LSHL, sh).and(keep).reinterpretAsFloats(), a4));
            v = ((ShortVector) ByteVector.fromMemorySegment(PAIR_BYTES, codes, c5 + c, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.B2S, PAIR_SHORTS, 0)).reinterpretAsInts();
            a5 = xd.fma(v.lanewise(VectorOperators.LSHL, oddShift).and(keep).reinterpretAsFloats(),
                    xe.fma(v.lanewise(VectorOperators.LSHL, sh).and(keep).reinterpretAsFloats(), a5));
            v = ((ShortVector) ByteVector.fromMemorySegment(PAIR_BYTES, codes, c6 + c, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.B2S, PAIR_SHORTS, 0)).reinterpretAsInts();
            a6 = xd.fma(v.lanewise(VectorOperators.LSHL, oddShift).and(keep).reinterpretAsFloats(),
                    xe.fma(v.lanewise(VectorOperators.LSHL, sh).and(keep).reinterpretAsFloats(), a6));
            v = ((ShortVector) ByteVector.fromMemorySegment(PAIR_BYTES, codes, c7 + c, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.B2S, PAIR_SHORTS, 0)).reinterpretAsInts();
            a7 = xd.fma(v.lanewise(VectorOperators.LSHL, oddShift).and(keep).reinterpretAsFloats(),
                    xe.fma(v.lanewise(VectorOperators.LSHL, sh).and(keep).reinterpretAsFloats(), a7));
        }
        a0.intoArray(sums, 0);
        a1.intoArray(sums, L);
        a2.intoArray(sums, 2 * L);
        a3.intoArray(sums, 3 * L);
        a4.intoArray(sums, 4 * L);
        a5.intoArray(sums, 5 * L);
        a6.intoArray(sums, 6 * L);
        a7.intoArray(sums, 7 * L);
        return c;
    }

    /**
     * The rows' last few codes of a segment, {@code [c, end)}, one at a time, into {@code p}: a
     * method of its own, keeping {@link #rows} (near C2's node budget, past which C2 stops
     * inlining) smaller.
     */
    private static void tailDots(MemorySegment codes, int c0, int stride, int c, int end, float[] xa, int xo, int sh, int keep,
                                 float[] p) {
        Arrays.fill(p, 0f);
        for (; c < end; c++) {
            float xc = xa[xo + c];
            for (int r = 0; r < ROWS; r++) {
                p[r] += xc * Float.intBitsToFloat((codes.get(ValueLayout.JAVA_BYTE, c0 + r * stride + c) << sh) & keep);
            }
        }
    }

    /**
     * Row n's subnormal weights times x (the quantised row in column order), each by its
     * segment's scales; with one segment, a gather of x per {@code lanes} of them.
     */
    private static float subnormals(Fp8Layout w, int n, float[] xq, int xo, float[] sx, int so) {
        // Scalar: subnormal codes are rare in checkpoints, and the vector gather this was (an index
        // vector built by IntVector.species, which C2 sometimes declined to inline) boxed its
        // vectors in some JVMs, allocating on every call.
        int[] cols = w.subnormalColumns();
        float[] vals = w.subnormalValues();
        int end = w.subnormalStart()[n + 1];
        int segs = w.segments();
        int[] start = w.segmentStart();
        float sum = 0f;
        int s = 0;
        for (int i = w.subnormalStart()[n]; i < end; i++) {
            while (cols[i] >= start[s + 1]) {
                s++;
            }
            sum += xq[xo + cols[i]] * vals[i] * (sx[so + s] * w.weightScales()[n * segs + s]);
        }
        return sum;
    }

    @Override
    public float dot(float[] a, int ao, float[] b, int bo, int len) {
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        int i = 0;
        for (; i <= len - 2 * L; i += 2 * L) {
            acc0 = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, bo + i), acc0);
            acc1 = FloatVector.fromArray(F, a, ao + i + L).fma(FloatVector.fromArray(F, b, bo + i + L), acc1);
        }
        for (; i <= len - L; i += L) {
            acc0 = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, bo + i), acc0);
        }
        float s = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        return s + SCALAR_TAIL.dot(a, ao + i, b, bo + i, len - i);
    }
}

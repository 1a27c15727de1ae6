package dev.tornadonn.jvm;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.DType;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The GEMV (a few rows of x) on the widest species. {@value #ROWS} weight rows are walked side by
 * side: each x vector is loaded once for all of them, and {@value #ROWS} independent address
 * streams keep more cache-line fetches in flight than one, which is what a single streaming core
 * lacks to reach the memory bandwidth (one row at a time read about 0.7× of numpy's rate).
 *
 * <p>16-bit weights are read as ints, two weights per lane, so no widening conversion is needed:
 * the low halves are the even weights, the high halves the odd ones (bf16: a shift or a mask).
 * Decodes are written out in the loops, not in helpers: a helper that C2 does not inline (it
 * stops inlining once a method grows past its node budget) boxes its vectors. x is split to match once per
 * call ({@link #pairSplit}): per block of {@code 2·lanes} columns, the even columns, then the odd.
 */
final class VectorGemv {
    static final VectorSpecies<Float> F = VectorKernels.F;
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final int L = F.length();
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, F.vectorShape());
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** Weight rows per pass: eight address streams keep more fetches in flight than four (bf16 GEMV 13-15 % faster). */
    static final int ROWS = 8;

    private VectorGemv() {}

    /**
     * @param subnormals for F16, the weight's subnormals ({@link F16Subnormals#find}), which the
     *                   f16 loop reads as zero and adds on the side
     */
    static void gemv(float[] x, int m, int k, MemorySegment w, DType type, int n, float[] bias, float[] y,
                     F16Subnormals subnormals) {
        if (type != DType.F32 && type != DType.BF16 && type != DType.F16) {
            throw new ConfigException("JVM kernels take F32, BF16 or F16 weights, not " + type);
        }
        float[] xs = switch (type) {
            case F32 -> x;
            case BF16 -> pairSplit(x, m, k);
            default -> f16Input(pairSplit(x, m, k), m * k);
        };
        Rows task = ROWS_TASK.get();
        task.start(type, x, xs, m, k, w, n, bias, y, subnormals);
        try {
            Parallel.forRows(n, ROWS, task);
        } finally {
            task.start(null, null, null, 0, 0, null, 0, null, null, null);
        }
    }

    private static final ThreadLocal<Rows> ROWS_TASK = ThreadLocal.withInitial(Rows::new);
    private static final Scratch.Key SPLIT_X = Scratch.key("x split into even and odd columns for the 16-bit GEMV");
    private static final Scratch.Key OUT = Scratch.key("the GEMV's results for a block of rows");

    /**
     * A range of the weight's rows; the calling thread reuses it from call to call (a capturing
     * lambda is a new object each time). One row loop per type, picked once per task: a loop
     * shared by the types, with the type switch inside, is compiled for the types seen so far and
     * thrown out (deoptimised) when the JVM runs another type's GEMV, as a model with an fp8 body
     * and a bf16 head does.
     */
    private static final class Rows implements Parallel.RowRange {
        private DType type;
        private float[] x;
        private float[] xs;
        private int m;
        private int k;
        private MemorySegment w;
        private int n;
        private float[] bias;
        private float[] y;
        private F16Subnormals subnormals;

        void start(DType type, float[] x, float[] xs, int m, int k, MemorySegment w, int n, float[] bias, float[] y,
                   F16Subnormals subnormals) {
            this.type = type;
            this.x = x;
            this.xs = xs;
            this.m = m;
            this.k = k;
            this.w = w;
            this.n = n;
            this.bias = bias;
            this.y = y;
            this.subnormals = subnormals;
        }

        @Override
        public void run(int from, int to) {
            long rowBytes = (long) k * type.byteSize();
            float[] out = Scratch.current().floats(OUT, VectorKernels.GEMV_MAX_M * ROWS);
            switch (type) {
                case F32 -> f32Range(x, m, k, w, rowBytes, n, from, to, bias, y, out);
                case BF16 -> bf16Range(xs, m, k, w, rowBytes, n, from, to, bias, y, out);
                default -> f16Range(x, xs, m, k, w, rowBytes, n, from, to, bias, y, out, subnormals);
            }
        }
    }

    /*
     * Rows [from, to) of the weight, each type by its own loop: ROWS rows at a time, then the last
     * few one at a time (one row repeated, stride 0, one result kept).
     */

    private static void f32Range(float[] x, int m, int k, MemorySegment w, long rowBytes, int n, int from, int to,
                                 float[] bias, float[] y, float[] out) {
        for (int j = from; j < to; ) {
            int rows = Math.min(ROWS, to - j);
            long stride = rows == ROWS ? rowBytes : 0;
            for (int i = 0; i < m; i++) {
                f32Rows(x, i * k, w, j * rowBytes, stride, k, out, i * ROWS);
            }
            store(out, rows == ROWS ? ROWS : 1, m, n, j, bias, y);
            j += rows == ROWS ? ROWS : 1;
        }
    }

    private static void bf16Range(float[] xs, int m, int k, MemorySegment w, long rowBytes, int n, int from, int to,
                                  float[] bias, float[] y, float[] out) {
        for (int j = from; j < to; ) {
            int rows = Math.min(ROWS, to - j);
            long stride = rows == ROWS ? rowBytes : 0;
            for (int i = 0; i < m; i++) {
                bf16Rows(xs, i * k, w, j * rowBytes, stride, k, out, i * ROWS);
            }
            store(out, rows == ROWS ? ROWS : 1, m, n, j, bias, y);
            j += rows == ROWS ? ROWS : 1;
        }
    }

    private static void f16Range(float[] x, float[] xs, int m, int k, MemorySegment w, long rowBytes, int n, int from,
                                 int to, float[] bias, float[] y, float[] out, F16Subnormals subnormals) {
        int kv = k - k % (2 * L); // the columns the vector loop reads, subnormals as zero
        for (int j = from; j < to; ) {
            int rows = Math.min(ROWS, to - j);
            long stride = rows == ROWS ? rowBytes : 0;
            int count = rows == ROWS ? ROWS : 1;
            for (int i = 0; i < m; i++) {
                if (f16Rows(x, xs, i * k, w, j * rowBytes, stride, k, out, i * ROWS)) {
                    for (int r = 0; r < count; r++) {
                        out[i * ROWS + r] += subnormalDot(subnormals, j + r, x, i * k, kv);
                    }
                }
            }
            store(out, count, m, n, j, bias, y);
            j += count;
        }
    }

    private static void store(float[] out, int rows, int m, int n, int j, float[] bias, float[] y) {
        for (int i = 0; i < m; i++) {
            for (int r = 0; r < rows; r++) {
                y[i * n + j + r] = out[i * ROWS + r] + (bias == null ? 0f : bias[j + r]);
            }
        }
    }

    /**
     * Each row of x with every block of {@code 2·lanes} columns reordered as its even columns, then
     * its odd ones; the tail as is. In the calling thread's scratch.
     */
    static float[] pairSplit(float[] x, int m, int k) {
        float[] xs = Scratch.current().floats(SPLIT_X, Math.multiplyExact(m, k));
        for (int i = 0; i < m; i++) {
            int p = i * k;
            for (; p <= (i + 1) * k - 2 * L; p += 2 * L) {
                for (int l = 0; l < L; l++) {
                    xs[p + l] = x[p + 2 * l];
                    xs[p + L + l] = x[p + 2 * l + 1];
                }
            }
            System.arraycopy(x, p, xs, p, (i + 1) * k - p);
        }
        return xs;
    }

    /** Dot products of x with the f32 weight rows at {@code wb + r·stride}, r below {@link #ROWS}, into {@code out[oo + r]}. */
    private static void f32Rows(float[] x, int xo, MemorySegment w, long wb, long stride, int k, float[] out, int oo) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        long o = wb;
        int p = 0;
        for (; p <= k - L; p += L, o += 4L * L) {
            FloatVector xv = FloatVector.fromArray(F, x, xo + p);
            a0 = xv.fma(FloatVector.fromMemorySegment(F, w, o, LE), a0);
            a1 = xv.fma(FloatVector.fromMemorySegment(F, w, o + stride, LE), a1);
            a2 = xv.fma(FloatVector.fromMemorySegment(F, w, o + 2 * stride, LE), a2);
            a3 = xv.fma(FloatVector.fromMemorySegment(F, w, o + 3 * stride, LE), a3);
            a4 = xv.fma(FloatVector.fromMemorySegment(F, w, o + 4 * stride, LE), a4);
            a5 = xv.fma(FloatVector.fromMemorySegment(F, w, o + 5 * stride, LE), a5);
            a6 = xv.fma(FloatVector.fromMemorySegment(F, w, o + 6 * stride, LE), a6);
            a7 = xv.fma(FloatVector.fromMemorySegment(F, w, o + 7 * stride, LE), a7);
        }
        out[oo] = a0.reduceLanes(VectorOperators.ADD);
        out[oo + 1] = a1.reduceLanes(VectorOperators.ADD);
        out[oo + 2] = a2.reduceLanes(VectorOperators.ADD);
        out[oo + 3] = a3.reduceLanes(VectorOperators.ADD);
        out[oo + 4] = a4.reduceLanes(VectorOperators.ADD);
        out[oo + 5] = a5.reduceLanes(VectorOperators.ADD);
        out[oo + 6] = a6.reduceLanes(VectorOperators.ADD);
        out[oo + 7] = a7.reduceLanes(VectorOperators.ADD);
        for (; p < k; p++, o += 4) {
            for (int r = 0; r < ROWS; r++) {
                out[oo + r] += x[xo + p] * w.get(WeightRows.F32, o + r * stride);
            }
        }
    }

    private static void bf16Rows(float[] xs, int xo, MemorySegment w, long wb, long stride, int k, float[] out, int oo) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        FloatVector b0 = a0, b1 = a0, b2 = a0, b3 = a0, b4 = a0, b5 = a0, b6 = a0, b7 = a0;
        long o = wb;
        int p = 0;
        for (; p <= k - 2 * L; p += 2 * L, o += 4L * L) {
            FloatVector xe = FloatVector.fromArray(F, xs, xo + p);
            FloatVector xd = FloatVector.fromArray(F, xs, xo + p + L);
            IntVector v0 = IntVector.fromMemorySegment(I, w, o, LE);
            a0 = xe.fma(v0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), a0);
            b0 = xd.fma(v0.and(0xFFFF0000).reinterpretAsFloats(), b0);
            IntVector v1 = IntVector.fromMemorySegment(I, w, o + stride, LE);
            a1 = xe.fma(v1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), a1);
            b1 = xd.fma(v1.and(0xFFFF0000).reinterpretAsFloats(), b1);
            IntVector v2 = IntVector.fromMemorySegment(I, w, o + 2 * stride, LE);
            a2 = xe.fma(v2.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), a2);
            b2 = xd.fma(v2.and(0xFFFF0000).reinterpretAsFloats(), b2);
            IntVector v3 = IntVector.fromMemorySegment(I, w, o + 3 * stride, LE);
            a3 = xe.fma(v3.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), a3);
            b3 = xd.fma(v3.and(0xFFFF0000).reinterpretAsFloats(), b3);
            IntVector v4 = IntVector.fromMemorySegment(I, w, o + 4 * stride, LE);
            a4 = xe.fma(v4.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), a4);
            b4 = xd.fma(v4.and(0xFFFF0000).reinterpretAsFloats(), b4);
            IntVector v5 = IntVector.fromMemorySegment(I, w, o + 5 * stride, LE);
            a5 = xe.fma(v5.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), a5);
            b5 = xd.fma(v5.and(0xFFFF0000).reinterpretAsFloats(), b5);
            IntVector v6 = IntVector.fromMemorySegment(I, w, o + 6 * stride, LE);
            a6 = xe.fma(v6.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), a6);
            b6 = xd.fma(v6.and(0xFFFF0000).reinterpretAsFloats(), b6);
            IntVector v7 = IntVector.fromMemorySegment(I, w, o + 7 * stride, LE);
            a7 = xe.fma(v7.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), a7);
            b7 = xd.fma(v7.and(0xFFFF0000).reinterpretAsFloats(), b7);
        }
        out[oo] = a0.add(b0).reduceLanes(VectorOperators.ADD);
        out[oo + 1] = a1.add(b1).reduceLanes(VectorOperators.ADD);
        out[oo + 2] = a2.add(b2).reduceLanes(VectorOperators.ADD);
        out[oo + 3] = a3.add(b3).reduceLanes(VectorOperators.ADD);
        out[oo + 4] = a4.add(b4).reduceLanes(VectorOperators.ADD);
        out[oo + 5] = a5.add(b5).reduceLanes(VectorOperators.ADD);
        out[oo + 6] = a6.add(b6).reduceLanes(VectorOperators.ADD);
        out[oo + 7] = a7.add(b7).reduceLanes(VectorOperators.ADD);
        for (; p < k; p++, o += 2) {
            for (int r = 0; r < ROWS; r++) {
                out[oo + r] += xs[xo + p] * Float.intBitsToFloat((w.get(WeightRows.I16, o + r * stride) & 0xFFFF) << 16);
            }
        }
    }

    /** x times 2^64 for {@link #f16Rows}, exactly, in place; null when some |x| is too large to scale. */
    private static float[] f16Input(float[] xs, int size) {
        for (int i = 0; i < size; i++) {
            if (!(Math.abs(xs[i]) < 0x1p60f)) {
                return null;
            }
            xs[i] *= F16_X_SCALE;
        }
        return xs;
    }

    private static final float F16_X_SCALE = 0x1p64f;
    /** What brings Σ (x·2^64)(w·2^−112) back to Σ x·w. */
    private static final float F16_UNSCALE = 0x1p48f;

    /**
     * f16 to f32 by bit moves alone, written out in the loop: the f16 at the top of a lane,
     * shifted arithmetically by 3, has its sign, exponent and mantissa where f32's go, which is
     * the weight times 2^−112; x comes scaled by 2^64 so that the products stay normal, and one
     * multiply per row by 2^48 undoes both.
     *
     * <p>No FMA ever sees a subnormal weight, which would cost a microcode assist of about a
     * hundred cycles (a trained checkpoint's f16 weights are about 0.4 % subnormal): every weight
     * with a zero exponent is zeroed first (three operations per vector, one of them shared with
     * the check for infinities below), so what reaches the FMA is ±0 or at least
     * 2^−14 · 2^−112 = 2^−126, the smallest normal f32; x·2^64 is normal for any x in range. The
     * caller adds the subnormals' products from {@link F16Subnormals}.
     *
     * <p>Infinity and NaN would come out finite, so the loop keeps the largest exponent seen per
     * 16-bit lane and redoes the rows exactly if any is all ones, as it does when x was too large
     * to scale ({@code xs} null). The last few weights of a row go one at a time, exactly, with x
     * unscaled.
     *
     * @return whether the vector loop ran, and so whether the rows' subnormals are still to add
     */
    private static boolean f16Rows(float[] x, float[] xs, int xo, MemorySegment w, long wb, long stride, int k,
                                   float[] out, int oo) {
        if (xs == null) {
            f16RowsExactly(x, xo, w, wb, stride, k, out, oo);
            return false;
        }
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        FloatVector b0 = a0, b1 = a0, b2 = a0, b3 = a0, b4 = a0, b5 = a0, b6 = a0, b7 = a0;
        ShortVector exponents = ShortVector.zero(S);
        long o = wb;
        int p = 0;
        for (; p <= k - 2 * L; p += 2 * L, o += 4L * L) {
            FloatVector xe = FloatVector.fromArray(F, xs, xo + p);
            FloatVector xd = FloatVector.fromArray(F, xs, xo + p + L);
            ShortVector h0 = ShortVector.fromMemorySegment(S, w, o, LE);
            ShortVector e0 = h0.and((short) 0x7C00);
            exponents = exponents.max(e0);
            IntVector v0 = h0.blend((short) 0, e0.eq((short) 0)).reinterpretAsInts();
            a0 = xe.fma(v0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).and(0x8FFFE000)
                    .reinterpretAsFloats(), a0);
            b0 = xd.fma(v0.lanewise(VectorOperators.ASHR, 3).and(0x8FFFE000).reinterpretAsFloats(), b0);
            ShortVector h1 = ShortVector.fromMemorySegment(S, w, o + stride, LE);
            ShortVector e1 = h1.and((short) 0x7C00);
            exponents = exponents.max(e1);
            IntVector v1 = h1.blend((short) 0, e1.eq((short) 0)).reinterpretAsInts();
            a1 = xe.fma(v1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).and(0x8FFFE000)
                    .reinterpretAsFloats(), a1);
            b1 = xd.fma(v1.lanewise(VectorOperators.ASHR, 3).and(0x8FFFE000).reinterpretAsFloats(), b1);
            ShortVector h2 = ShortVector.fromMemorySegment(S, w, o + 2 * stride, LE);
            ShortVector e2 = h2.and((short) 0x7C00);
            exponents = exponents.max(e2);
            IntVector v2 = h2.blend((short) 0, e2.eq((short) 0)).reinterpretAsInts();
            a2 = xe.fma(v2.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).and(0x8FFFE000)
                    .reinterpretAsFloats(), a2);
            b2 = xd.fma(v2.lanewise(VectorOperators.ASHR, 3).and(0x8FFFE000).reinterpretAsFloats(), b2);
            ShortVector h3 = ShortVector.fromMemorySegment(S, w, o + 3 * stride, LE);
            ShortVector e3 = h3.and((short) 0x7C00);
            exponents = exponents.max(e3);
            IntVector v3 = h3.blend((short) 0, e3.eq((short) 0)).reinterpretAsInts();
            a3 = xe.fma(v3.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).and(0x8FFFE000)
                    .reinterpretAsFloats(), a3);
            b3 = xd.fma(v3.lanewise(VectorOperators.ASHR, 3).and(0x8FFFE000).reinterpretAsFloats(), b3);
            ShortVector h4 = ShortVector.fromMemorySegment(S, w, o + 4 * stride, LE);
            ShortVector e4 = h4.and((short) 0x7C00);
            exponents = exponents.max(e4);
            IntVector v4 = h4.blend((short) 0, e4.eq((short) 0)).reinterpretAsInts();
            a4 = xe.fma(v4.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).and(0x8FFFE000)
                    .reinterpretAsFloats(), a4);
            b4 = xd.fma(v4.lanewise(VectorOperators.ASHR, 3).and(0x8FFFE000).reinterpretAsFloats(), b4);
            ShortVector h5 = ShortVector.fromMemorySegment(S, w, o + 5 * stride, LE);
            ShortVector e5 = h5.and((short) 0x7C00);
            exponents = exponents.max(e5);
            IntVector v5 = h5.blend((short) 0, e5.eq((short) 0)).reinterpretAsInts();
            a5 = xe.fma(v5.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).and(0x8FFFE000)
                    .reinterpretAsFloats(), a5);
            b5 = xd.fma(v5.lanewise(VectorOperators.ASHR, 3).and(0x8FFFE000).reinterpretAsFloats(), b5);
            ShortVector h6 = ShortVector.fromMemorySegment(S, w, o + 6 * stride, LE);
            ShortVector e6 = h6.and((short) 0x7C00);
            exponents = exponents.max(e6);
            IntVector v6 = h6.blend((short) 0, e6.eq((short) 0)).reinterpretAsInts();
            a6 = xe.fma(v6.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).and(0x8FFFE000)
                    .reinterpretAsFloats(), a6);
            b6 = xd.fma(v6.lanewise(VectorOperators.ASHR, 3).and(0x8FFFE000).reinterpretAsFloats(), b6);
            ShortVector h7 = ShortVector.fromMemorySegment(S, w, o + 7 * stride, LE);
            ShortVector e7 = h7.and((short) 0x7C00);
            exponents = exponents.max(e7);
            IntVector v7 = h7.blend((short) 0, e7.eq((short) 0)).reinterpretAsInts();
            a7 = xe.fma(v7.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).and(0x8FFFE000)
                    .reinterpretAsFloats(), a7);
            b7 = xd.fma(v7.lanewise(VectorOperators.ASHR, 3).and(0x8FFFE000).reinterpretAsFloats(), b7);
        }
        if (exponents.reduceLanes(VectorOperators.MAX) == 0x7C00) {
            f16RowsExactly(x, xo, w, wb, stride, k, out, oo);
            return false;
        }
        out[oo] = a0.add(b0).reduceLanes(VectorOperators.ADD) * F16_UNSCALE;
        out[oo + 1] = a1.add(b1).reduceLanes(VectorOperators.ADD) * F16_UNSCALE;
        out[oo + 2] = a2.add(b2).reduceLanes(VectorOperators.ADD) * F16_UNSCALE;
        out[oo + 3] = a3.add(b3).reduceLanes(VectorOperators.ADD) * F16_UNSCALE;
        out[oo + 4] = a4.add(b4).reduceLanes(VectorOperators.ADD) * F16_UNSCALE;
        out[oo + 5] = a5.add(b5).reduceLanes(VectorOperators.ADD) * F16_UNSCALE;
        out[oo + 6] = a6.add(b6).reduceLanes(VectorOperators.ADD) * F16_UNSCALE;
        out[oo + 7] = a7.add(b7).reduceLanes(VectorOperators.ADD) * F16_UNSCALE;
        // The last few weights one at a time, exactly, with x unscaled (pairSplit leaves them in place).
        for (; p < k; p++, o += 2) {
            for (int r = 0; r < ROWS; r++) {
                out[oo + r] += x[xo + p] * Float.float16ToFloat(w.get(WeightRows.I16, o + r * stride));
            }
        }
        return true;
    }

    /**
     * {@code Σ x[xo + c]·w[row, c]} over the row's subnormal weights in columns below {@code kv},
     * which the vector loop read as zero. Scalar: about 0.4 % of a real f16 row, and a vector
     * gather (its index vector built through IntVector.species, which C2 sometimes declines to
     * inline) boxed its vectors in some JVMs, as the fp8 GEMV's did.
     */
    private static float subnormalDot(F16Subnormals s, int row, float[] x, int xo, int kv) {
        int[] cols = s.columns();
        float[] vals = s.values();
        int i = s.rowStart()[row];
        int end = s.rowStart()[row + 1];
        while (end > i && cols[end - 1] >= kv) {
            end--;
        }
        float sum = 0f;
        for (; i < end; i++) {
            sum += x[xo + cols[i]] * vals[i];
        }
        return sum;
    }

    /** The rows at {@code wb + r·stride}, r below {@link #ROWS}, each by {@link #f16RowExactly}. */
    private static void f16RowsExactly(float[] x, int xo, MemorySegment w, long wb, long stride, int k, float[] out,
                                       int oo) {
        for (int r = 0; r < ROWS; r++) {
            out[oo + r] = f16RowExactly(x, xo, w, wb + r * stride, k);
        }
    }

    /** A row with an infinity or NaN, one weight at a time. */
    private static float f16RowExactly(float[] x, int xo, MemorySegment w, long wb, int k) {
        float s = 0f;
        for (int p = 0; p < k; p++) {
            s += x[xo + p] * Float.float16ToFloat(w.get(WeightRows.I16, wb + 2L * p));
        }
        return s;
    }
}

package dev.tornadonn.jvm;

import dev.tornadonn.core.DType;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
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
 * the low halves are the even weights, the high halves the odd ones. x is split to match once per
 * call ({@link #pairSplit}): per block of {@code 2·lanes} columns, the even columns, then the odd.
 */
final class VectorGemv {
    static final VectorSpecies<Float> F = VectorKernels.F;
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final int L = F.length();
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static final int ROWS = 4;

    private VectorGemv() {}

    static void gemv(float[] x, int m, int k, MemorySegment w, DType type, int n, float[] bias, float[] y) {
        if (type != DType.F32 && type != DType.BF16 && type != DType.F16) {
            throw new IllegalArgumentException("JVM kernels take F32, BF16 or F16 weights, not " + type);
        }
        float[] xs = type == DType.F32 ? x : pairSplit(x, m, k);
        long rowBytes = (long) k * type.byteSize();
        Parallel.forRows(n, (from, to) -> {
            float[] out = new float[VectorKernels.GEMV_MAX_M * ROWS];
            int j = from;
            for (; j + ROWS <= to; j += ROWS) {
                rowBlock(x, xs, m, k, w, type, j * rowBytes, rowBytes, out);
                store(out, ROWS, m, n, j, bias, y);
            }
            for (; j < to; j++) { // the last few rows: one row repeated (stride 0), one result kept
                rowBlock(x, xs, m, k, w, type, j * rowBytes, 0, out);
                store(out, 1, m, n, j, bias, y);
            }
        });
    }

    /** Weight rows {@code wb + r·stride} for r below {@link #ROWS} times each row of x, into {@code out[i·ROWS + r]}. */
    private static void rowBlock(float[] x, float[] xs, int m, int k, MemorySegment w, DType type, long wb, long stride,
                                 float[] out) {
        for (int i = 0; i < m; i++) {
            switch (type) {
                case F32 -> f32Rows(x, i * k, w, wb, stride, k, out, i * ROWS);
                case BF16 -> bf16Rows(xs, i * k, w, wb, stride, k, out, i * ROWS);
                default -> f16Rows(xs, i * k, w, wb, stride, k, out, i * ROWS);
            }
        }
    }

    private static void store(float[] out, int rows, int m, int n, int j, float[] bias, float[] y) {
        for (int i = 0; i < m; i++) {
            for (int r = 0; r < rows; r++) {
                y[i * n + j + r] = out[i * ROWS + r] + (bias == null ? 0f : bias[j + r]);
            }
        }
    }

    /** Each row of x with every block of {@code 2·lanes} columns reordered as its even columns, then its odd ones; the tail as is. */
    static float[] pairSplit(float[] x, int m, int k) {
        float[] xs = x.clone();
        for (int i = 0; i < m; i++) {
            for (int p = i * k; p <= (i + 1) * k - 2 * L; p += 2 * L) {
                for (int l = 0; l < L; l++) {
                    xs[p + l] = x[p + 2 * l];
                    xs[p + L + l] = x[p + 2 * l + 1];
                }
            }
        }
        return xs;
    }

    /** Dot products of x with the f32 weight rows at {@code wb + r·stride}, r below {@link #ROWS}, into {@code out[oo + r]}. */
    private static void f32Rows(float[] x, int xo, MemorySegment w, long wb, long stride, int k, float[] out, int oo) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        long o = wb;
        int p = 0;
        for (; p <= k - L; p += L, o += 4L * L) {
            FloatVector xv = FloatVector.fromArray(F, x, xo + p);
            a0 = xv.fma(FloatVector.fromMemorySegment(F, w, o, LE), a0);
            a1 = xv.fma(FloatVector.fromMemorySegment(F, w, o + stride, LE), a1);
            a2 = xv.fma(FloatVector.fromMemorySegment(F, w, o + 2 * stride, LE), a2);
            a3 = xv.fma(FloatVector.fromMemorySegment(F, w, o + 3 * stride, LE), a3);
        }
        out[oo] = a0.reduceLanes(VectorOperators.ADD);
        out[oo + 1] = a1.reduceLanes(VectorOperators.ADD);
        out[oo + 2] = a2.reduceLanes(VectorOperators.ADD);
        out[oo + 3] = a3.reduceLanes(VectorOperators.ADD);
        for (; p < k; p++, o += 4) {
            for (int r = 0; r < ROWS; r++) {
                out[oo + r] += x[xo + p] * w.get(WeightRows.F32, o + r * stride);
            }
        }
    }

    private static void bf16Rows(float[] xs, int xo, MemorySegment w, long wb, long stride, int k, float[] out, int oo) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        FloatVector b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        long o = wb;
        int p = 0;
        for (; p <= k - 2 * L; p += 2 * L, o += 4L * L) {
            FloatVector xe = FloatVector.fromArray(F, xs, xo + p);
            FloatVector xd = FloatVector.fromArray(F, xs, xo + p + L);
            IntVector v0 = IntVector.fromMemorySegment(I, w, o, LE);
            IntVector v1 = IntVector.fromMemorySegment(I, w, o + stride, LE);
            IntVector v2 = IntVector.fromMemorySegment(I, w, o + 2 * stride, LE);
            IntVector v3 = IntVector.fromMemorySegment(I, w, o + 3 * stride, LE);
            a0 = xe.fma(bf16Low(v0), a0);
            b0 = xd.fma(bf16High(v0), b0);
            a1 = xe.fma(bf16Low(v1), a1);
            b1 = xd.fma(bf16High(v1), b1);
            a2 = xe.fma(bf16Low(v2), a2);
            b2 = xd.fma(bf16High(v2), b2);
            a3 = xe.fma(bf16Low(v3), a3);
            b3 = xd.fma(bf16High(v3), b3);
        }
        out[oo] = a0.add(b0).reduceLanes(VectorOperators.ADD);
        out[oo + 1] = a1.add(b1).reduceLanes(VectorOperators.ADD);
        out[oo + 2] = a2.add(b2).reduceLanes(VectorOperators.ADD);
        out[oo + 3] = a3.add(b3).reduceLanes(VectorOperators.ADD);
        for (; p < k; p++, o += 2) {
            for (int r = 0; r < ROWS; r++) {
                out[oo + r] += xs[xo + p] * Float.intBitsToFloat((w.get(WeightRows.I16, o + r * stride) & 0xFFFF) << 16);
            }
        }
    }

    /**
     * One row per pass: more than two decodes in one loop is more code than C2 inlines
     * (NodeCountInliningCutoff), and a decode it does not inline boxes its vectors.
     */
    private static void f16Rows(float[] xs, int xo, MemorySegment w, long wb, long stride, int k, float[] out, int oo) {
        for (int r = 0; r < ROWS; r++) {
            out[oo + r] = f16Row(xs, xo, w, wb + r * stride, k);
        }
    }

    private static float f16Row(float[] xs, int xo, MemorySegment w, long wb, int k) {
        FloatVector a = FloatVector.zero(F), b = a;
        long o = wb;
        int p = 0;
        for (; p <= k - 2 * L; p += 2 * L, o += 4L * L) {
            IntVector v = IntVector.fromMemorySegment(I, w, o, LE);
            a = FloatVector.fromArray(F, xs, xo + p).fma(f16Low(v), a);
            b = FloatVector.fromArray(F, xs, xo + p + L).fma(f16High(v), b);
        }
        float s = a.add(b).reduceLanes(VectorOperators.ADD);
        for (; p < k; p++, o += 2) {
            s += xs[xo + p] * Float.float16ToFloat(w.get(WeightRows.I16, o));
        }
        return s;
    }

    /** The bf16 in each lane's low half, as f32: a shift. */
    static FloatVector bf16Low(IntVector v) {
        return v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /** The bf16 in each lane's high half, as f32: a mask. */
    static FloatVector bf16High(IntVector v) {
        return v.and(0xFFFF0000).reinterpretAsFloats();
    }

    /*
     * f16 to f32 exactly: the exponent and mantissa shifted into f32's places and scaled by 2^112
     * (right for normals and subnormals alike), an all-ones exponent (inf, NaN) made all-ones in
     * f32 too, the sign or-ed in. Each helper is called straight from the kernel loop and written
     * out in full: C2 declined to inline a third level of helpers, and a call it does not inline
     * boxes its vectors (ten times slower).
     */

    /** The f16 in each lane's low half, as f32 exactly. */
    static FloatVector f16Low(IntVector v) {
        IntVector magnitude = v.lanewise(VectorOperators.LSHL, 13).and(0x0FFFE000);
        IntVector finite = magnitude.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
        IntVector bits = finite.blend(finite.or(0x7F800000), magnitude.compare(VectorOperators.GE, 0x0F800000));
        return bits.or(v.lanewise(VectorOperators.LSHL, 16).and(0x80000000)).reinterpretAsFloats();
    }

    /** The f16 in each lane's high half, as f32 exactly. */
    static FloatVector f16High(IntVector v) {
        IntVector magnitude = v.lanewise(VectorOperators.LSHR, 3).and(0x0FFFE000);
        IntVector finite = magnitude.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
        IntVector bits = finite.blend(finite.or(0x7F800000), magnitude.compare(VectorOperators.GE, 0x0F800000));
        return bits.or(v.and(0x80000000)).reinterpretAsFloats();
    }
}

package dev.tornadonn.jvm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Int8Kernels} with the Vector API: {@code 2·lanes} weight codes widen to 16-bit lanes
 * (one conversion), multiply the x codes exactly (an int8 product fits 16 bits), and both halves
 * of the products widen into one int accumulator per row. {@value Int8Kernels#ROWS} weight rows
 * share each load of x. Lane sums stay far from int overflow within a chunk of
 * {@value #CHUNK} columns; chunks add up in longs.
 */
final class VectorInt8Kernels implements Int8Kernels {
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, VectorKernels.F.vectorShape());
    private static final int L = I.length();
    /** {@code 2·lanes} 16-bit lanes: one vector of x codes or of products. */
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, I.vectorShape());
    /** {@code 2·lanes} weight codes. */
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(16 * L));
    private static final int STEP = 2 * L;
    /** Columns summed in int lanes: at most {@code CHUNK·2^14} in all, below 2^31. */
    private static final int CHUNK = 1 << 16;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final Scratch.Key ONE_ROW = Scratch.key("an int8 row's sums, the last block's rows one at a time");

    @Override
    public void rowsTimesX(Int8Layout w, int n, int count, short[] xq, int xo, long[] out) {
        long k = w.cols();
        if (count == ROWS) {
            rows(w, n * k, k, xq, xo, out);
            return;
        }
        long[] one = Scratch.current().longs(ONE_ROW, ROWS);
        for (int r = 0; r < count; r++) { // one row repeated (stride 0), one result kept
            rows(w, (n + r) * k, 0, xq, xo, one);
            out[r] = one[0];
        }
    }

    /**
     * The rows at code offsets {@code base + r·stride}, r below {@value Int8Kernels#ROWS}, times
     * x: eight address streams keep more memory fetches in flight, and each x vector is loaded
     * once for all eight. Written out: a helper returning a vector that C2 does not inline boxes it.
     */
    private static void rows(Int8Layout w, long base, long stride, short[] xq, int xo, long[] out) {
        MemorySegment codes = w.codes();
        int k = w.cols();
        long c0 = base;
        long c1 = c0 + stride;
        long c2 = c1 + stride;
        long c3 = c2 + stride;
        long c4 = c3 + stride;
        long c5 = c4 + stride;
        long c6 = c5 + stride;
        long c7 = c6 + stride;
        long s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
        for (int from = 0; from < k; from += CHUNK) {
            int to = Math.min(k, from + CHUNK);
            IntVector a0 = IntVector.zero(I), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
            int c = from;
            for (; c <= to - STEP; c += STEP) {
                ShortVector x = ShortVector.fromArray(S, xq, xo + c);
                ShortVector p;
                p = ((ShortVector) ByteVector.fromMemorySegment(B, codes, c0 + c, LE)
                        .convertShape(VectorOperators.B2S, S, 0)).mul(x);
                a0 = a0.add(p.convertShape(VectorOperators.S2I, I, 0)).add(p.convertShape(VectorOperators.S2I, I, 1));
                p = ((ShortVector) ByteVector.fromMemorySegment(B, codes, c1 + c, LE)
                        .convertShape(VectorOperators.B2S, S, 0)).mul(x);
                a1 = a1.add(p.convertShape(VectorOperators.S2I, I, 0)).add(p.convertShape(VectorOperators.S2I, I, 1));
                p = ((ShortVector) ByteVector.fromMemorySegment(B, codes, c2 + c, LE)
                        .convertShape(VectorOperators.B2S, S, 0)).mul(x);
                a2 = a2.add(p.convertShape(VectorOperators.S2I, I, 0)).add(p.convertShape(VectorOperators.S2I, I, 1));
                p = ((ShortVector) ByteVector.fromMemorySegment(B, codes, c3 + c, LE)
                        .convertShape(VectorOperators.B2S, S, 0)).mul(x);
                a3 = a3.add(p.convertShape(VectorOperators.S2I, I, 0)).add(p.convertShape(VectorOperators.S2I, I, 1));
                p = ((ShortVector) ByteVector.fromMemorySegment(B, codes, c4 + c, LE)
                        .convertShape(VectorOperators.B2S, S, 0)).mul(x);
                a4 = a4.add(p.convertShape(VectorOperators.S2I, I, 0)).add(p.convertShape(VectorOperators.S2I, I, 1));
                p = ((ShortVector) ByteVector.fromMemorySegment(B, codes, c5 + c, LE)
                        .convertShape(VectorOperators.B2S, S, 0)).mul(x);
                a5 = a5.add(p.convertShape(VectorOperators.S2I, I, 0)).add(p.convertShape(VectorOperators.S2I, I, 1));
                p = ((ShortVector) ByteVector.fromMemorySegment(B, codes, c6 + c, LE)
                        .convertShape(VectorOperators.B2S, S, 0)).mul(x);
                a6 = a6.add(p.convertShape(VectorOperators.S2I, I, 0)).add(p.convertShape(VectorOperators.S2I, I, 1));
                p = ((ShortVector) ByteVector.fromMemorySegment(B, codes, c7 + c, LE)
                        .convertShape(VectorOperators.B2S, S, 0)).mul(x);
                a7 = a7.add(p.convertShape(VectorOperators.S2I, I, 0)).add(p.convertShape(VectorOperators.S2I, I, 1));
            }
            s0 += a0.reduceLanes(VectorOperators.ADD);
            s1 += a1.reduceLanes(VectorOperators.ADD);
            s2 += a2.reduceLanes(VectorOperators.ADD);
            s3 += a3.reduceLanes(VectorOperators.ADD);
            s4 += a4.reduceLanes(VectorOperators.ADD);
            s5 += a5.reduceLanes(VectorOperators.ADD);
            s6 += a6.reduceLanes(VectorOperators.ADD);
            s7 += a7.reduceLanes(VectorOperators.ADD);
            for (; c < to; c++) { // the last few columns (CHUNK is a multiple of STEP)
                int xc = xq[xo + c];
                s0 += xc * codes.get(ValueLayout.JAVA_BYTE, c0 + c);
                s1 += xc * codes.get(ValueLayout.JAVA_BYTE, c1 + c);
                s2 += xc * codes.get(ValueLayout.JAVA_BYTE, c2 + c);
                s3 += xc * codes.get(ValueLayout.JAVA_BYTE, c3 + c);
                s4 += xc * codes.get(ValueLayout.JAVA_BYTE, c4 + c);
                s5 += xc * codes.get(ValueLayout.JAVA_BYTE, c5 + c);
                s6 += xc * codes.get(ValueLayout.JAVA_BYTE, c6 + c);
                s7 += xc * codes.get(ValueLayout.JAVA_BYTE, c7 + c);
            }
        }
        out[0] = s0;
        out[1] = s1;
        out[2] = s2;
        out[3] = s3;
        out[4] = s4;
        out[5] = s5;
        out[6] = s6;
        out[7] = s7;
    }
}

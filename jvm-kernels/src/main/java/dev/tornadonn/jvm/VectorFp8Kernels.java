package dev.tornadonn.jvm;

import dev.tornadonn.core.numeric.Float8Format;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Fp8Kernels} with the Vector API. Decoding is arithmetic rather than a table gather:
 * the magnitude bits shifted into an f32's exponent/mantissa position and multiplied by
 * {@code 2^(127 − bias)} give the exact value for normals and subnormals alike; the format's
 * specials (NaN, and e5m2's infinities) are patched in with a mask.
 */
final class VectorFp8Kernels implements Fp8Kernels {
    private static final VectorSpecies<Float> F = VectorKernels.F;
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final int L = F.length();
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, L * 8)));
    private static final int PARTS = B.length() / L;
    private static final Fp8Kernels SCALAR_TAIL = new Fp8Kernels.Scalar();

    @Override
    public void decodeRow(Fp8Layout w, int n, float[] out) {
        boolean fn = w.format() == Float8Format.E4M3FN;
        int shift = fn ? 20 : 21;
        float rebias = fn ? 0x1p120f : 0x1p112f;
        int expMask = fn ? 0x78 : 0x7C;
        byte[] codes = w.codes();
        int k = w.cols();
        int base = n * k;
        int c = 0;
        if (!w.hasSpecials()) {
            // The sign-extended byte, shifted so its magnitude lands on the f32 exponent/mantissa
            // and its sign on bit 31: four integer operations and one multiply per vector.
            int down = 24 - shift;
            int keep = 0x80000000 | (0x7F << shift);
            for (; c <= k - B.length(); c += B.length()) {
                ByteVector bytes = ByteVector.fromArray(B, codes, base + c);
                for (int p = 0; p < PARTS; p++) {
                    IntVector b = (IntVector) bytes.convertShape(VectorOperators.B2I, I, p);
                    IntVector bits = b.lanewise(VectorOperators.LSHL, 24).lanewise(VectorOperators.ASHR, down).and(keep);
                    bits.reinterpretAsFloats().mul(rebias).intoArray(out, c + p * L);
                }
            }
        }
        for (; c <= k - B.length(); c += B.length()) {
            ByteVector bytes = ByteVector.fromArray(B, codes, base + c);
            for (int p = 0; p < PARTS; p++) {
                IntVector b = ((IntVector) bytes.convertShape(VectorOperators.B2I, I, p)).and(0xFF);
                IntVector mag = b.and(0x7F);
                IntVector bits = mag.lanewise(VectorOperators.LSHL, shift);
                VectorMask<Integer> special = fn ? mag.eq(0x7F) : mag.and(expMask).eq(expMask);
                // e4m3fn's only special is NaN; e5m2's top exponent is inf (m = 0) or NaN, as in f32.
                IntVector specialBits = fn ? IntVector.broadcast(I, 0x7FC00000) : bits.and(0x7FFFFF).or(0x7F800000);
                FloatVector v = bits.blend(specialBits, special).reinterpretAsFloats().mul(rebias);
                IntVector signed = v.reinterpretAsInts().or(b.and(0x80).lanewise(VectorOperators.LSHL, 24));
                signed.reinterpretAsFloats().intoArray(out, c + p * L);
            }
        }
        for (; c < k; c++) {
            out[c] = w.format().toFloat(codes[base + c]);
        }
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

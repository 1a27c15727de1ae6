package dev.tornadonn.jvm;

import dev.tornadonn.core.DType;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API kernels on the widest species the CPU has.
 *
 * <ul>
 *   <li>GEMV (at most {@value #GEMV_MAX_M} rows of x): {@link VectorGemv}.
 *   <li>GEMM (more rows): {@link VectorGemm}.
 * </ul>
 */
final class VectorKernels implements MatmulKernels {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int L = F.length();
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    static final int GEMV_MAX_M = 4;

    @Override
    public String name() {
        return "vector-" + F.vectorBitSize();
    }

    @Override
    public void linear(float[] x, int m, int k, MemorySegment w, DType wType, int n, float[] bias, float[] y,
                       F16Subnormals subnormals) {
        if (m <= GEMV_MAX_M) {
            F16Subnormals sub = wType == DType.F16 && subnormals == null ? F16Subnormals.find(w, n, k) : subnormals;
            VectorGemv.gemv(x, m, k, w, wType, n, bias, y, sub);
        } else {
            VectorGemm.gemm(x, m, k, w, wType, n, bias, y);
        }
    }

    @Override
    public boolean packs(int m) {
        return m >= VectorGemm.PACKED_MIN_M;
    }

    @Override
    public void packedGemm(float[] x, int m, int k, DecodedRows w, int n, float[] bias, float[] y) {
        VectorGemm.gemm(x, m, k, w, n, bias, y);
    }

    @Override
    public void decodeGguf(dev.tornadonn.core.io.GgmlType type, byte[] src, int from, int count, float[] out, int outAt) {
        VectorGgufBlocks.decode(type, src, from, count, out, outAt);
    }

    /*
     * The decoders store what they decode: a vector returned from a helper that C2 does not
     * inline (which depends on what it compiled before) is boxed, an allocation per vector.
     */

    /** {@code lanes} bf16 weights from {@code byteOffset} into {@code out[at ..]}: bf16 → f32 is a 16-bit shift. */
    static void bf16(MemorySegment w, long byteOffset, float[] out, int at) {
        ShortVector h = ShortVector.fromMemorySegment(S, w, byteOffset, LE);
        ((IntVector) h.convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()
                .intoArray(out, at);
    }

    /**
     * {@code lanes} f16 weights from {@code byteOffset} into {@code out[at ..]}, exactly, with no
     * subnormal operand anywhere (one costs a microcode assist): a normal's exponent is rebiased
     * by an integer add; a subnormal is its 10-bit mantissa times 2^−24, converted from an int
     * exactly and scaled, both normal; infinities and NaNs get an all-ones exponent instead.
     */
    static void f16(MemorySegment w, long byteOffset, float[] out, int at) {
        IntVector h = (IntVector) ShortVector.fromMemorySegment(S, w, byteOffset, LE).convertShape(VectorOperators.S2I, I, 0);
        IntVector magnitude = h.and(0x7FFF);
        IntVector shifted = magnitude.lanewise(VectorOperators.LSHL, 13);
        IntVector normal = shifted.add((127 - 15) << 23);
        IntVector subnormal = ((FloatVector) magnitude.convert(VectorOperators.I2F, 0)).mul(0x1p-24f).reinterpretAsInts();
        IntVector bits = normal.blend(subnormal, magnitude.compare(VectorOperators.LT, 0x0400))
                .blend(shifted.or(0x7F800000), magnitude.compare(VectorOperators.GE, 0x7C00));
        bits.or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats().intoArray(out, at);
    }
}

package dev.tornadonn.jvm;

import dev.tornadonn.core.io.GgmlType;
import dev.tornadonn.core.weights.GgufBlocks;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * GGUF's 32-element blocks decoded with vectors, bit for bit {@link GgufBlocks}: a code times the
 * block's f16 scale is exact in f32 (at most 8 × 11 significant bits), so the order of operations
 * cannot differ. Q4_0 and Q8_0 here; the K-quants' 256-element super-blocks stay with the scalar
 * decoder.
 */
final class VectorGgufBlocks {
    private static final VectorSpecies<Float> F = VectorKernels.F;
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final int L = F.length();
    /** One byte per float lane. */
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(8 * L));

    private VectorGgufBlocks() {}

    /** As {@link GgufBlocks#decode}. */
    static void decode(GgmlType type, byte[] src, int from, int count, float[] out, int outAt) {
        if (L > 16 || type != GgmlType.Q4_0 && type != GgmlType.Q8_0) {
            GgufBlocks.decode(type, src, from, count, out, outAt);
            return;
        }
        int blocks = count / type.blockSize();
        int bytes = type.blockBytes();
        for (int b = 0; b < blocks; b++) {
            int at = from + b * bytes;
            int o = outAt + b * 32;
            float d = Float.float16ToFloat((short) ((src[at] & 0xFF) | (src[at + 1] << 8)));
            if (type == GgmlType.Q4_0) {
                // Byte j holds element j in its low nibble and element j + 16 in its high one.
                for (int j = 0; j < 16; j += L) {
                    IntVector q = (IntVector) ByteVector.fromArray(B, src, at + 2 + j).convertShape(VectorOperators.B2I, I, 0);
                    ((FloatVector) q.and(0xF).sub(8).convert(VectorOperators.I2F, 0)).mul(d).intoArray(out, o + j);
                    ((FloatVector) q.lanewise(VectorOperators.ASHR, 4).and(0xF).sub(8).convert(VectorOperators.I2F, 0)).mul(d)
                            .intoArray(out, o + 16 + j);
                }
            } else {
                for (int j = 0; j < 32; j += L) {
                    IntVector q = (IntVector) ByteVector.fromArray(B, src, at + 2 + j).convertShape(VectorOperators.B2I, I, 0);
                    ((FloatVector) q.convert(VectorOperators.I2F, 0)).mul(d).intoArray(out, o + j);
                }
            }
        }
    }
}

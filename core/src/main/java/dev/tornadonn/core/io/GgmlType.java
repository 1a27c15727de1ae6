package dev.tornadonn.core.io;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.DType;

/**
 * The tensor types of ggml, as a GGUF file numbers them: the elements per block and the bytes per
 * block of each, so that a reader can size every tensor, whether or not this library runs it.
 * Plain types have blocks of one element; {@link #dtype()} is the matching {@link DType} where
 * there is one.
 */
public enum GgmlType {
    F32(0, 1, 4, DType.F32),
    F16(1, 1, 2, DType.F16),
    Q4_0(2, 32, 18, null),
    Q4_1(3, 32, 20, null),
    Q5_0(6, 32, 22, null),
    Q5_1(7, 32, 24, null),
    Q8_0(8, 32, 34, null),
    Q8_1(9, 32, 40, null),
    Q2_K(10, 256, 84, null),
    Q3_K(11, 256, 110, null),
    Q4_K(12, 256, 144, null),
    Q5_K(13, 256, 176, null),
    Q6_K(14, 256, 210, null),
    Q8_K(15, 256, 292, null),
    IQ2_XXS(16, 256, 66, null),
    IQ2_XS(17, 256, 74, null),
    IQ3_XXS(18, 256, 98, null),
    IQ1_S(19, 256, 50, null),
    IQ4_NL(20, 32, 18, null),
    IQ3_S(21, 256, 110, null),
    IQ2_S(22, 256, 82, null),
    IQ4_XS(23, 256, 136, null),
    I8(24, 1, 1, DType.I8),
    I16(25, 1, 2, null),
    I32(26, 1, 4, DType.I32),
    I64(27, 1, 8, DType.I64),
    F64(28, 1, 8, null),
    IQ1_M(29, 256, 56, null),
    BF16(30, 1, 2, DType.BF16),
    TQ1_0(34, 256, 54, null),
    TQ2_0(35, 256, 66, null),
    MXFP4(39, 32, 17, null),
    NVFP4(40, 64, 36, null),
    Q1_0(41, 128, 18, null);

    private final int id;
    private final int blockSize;
    private final int blockBytes;
    private final DType dtype;

    GgmlType(int id, int blockSize, int blockBytes, DType dtype) {
        this.id = id;
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
        this.dtype = dtype;
    }

    /** The number a GGUF tensor info stores. */
    public int id() {
        return id;
    }

    /** Elements per block: 1 for plain types, 32 or 256 (a K-quant super-block) for quantised ones. */
    public int blockSize() {
        return blockSize;
    }

    /** Bytes per block. */
    public int blockBytes() {
        return blockBytes;
    }

    /** The plain element type, or null for a block-quantised type (and for I16, F64, which this library has no dtype for). */
    public DType dtype() {
        return dtype;
    }

    /** Whether elements are packed in blocks with their scales (every type but the plain ones). */
    public boolean isQuantized() {
        return blockSize > 1;
    }

    /** The bytes of a row of {@code elements} elements, which must be a whole number of blocks. */
    public long rowBytes(long elements) {
        if (elements % blockSize != 0) {
            throw new ConfigException(this + " rows are whole blocks of " + blockSize + " elements; " + elements
                    + " is not a multiple");
        }
        return elements / blockSize * blockBytes;
    }

    /** The type numbered {@code id}, or null. */
    public static GgmlType ofId(long id) {
        for (GgmlType t : values()) {
            if (t.id == id) {
                return t;
            }
        }
        return null;
    }
}

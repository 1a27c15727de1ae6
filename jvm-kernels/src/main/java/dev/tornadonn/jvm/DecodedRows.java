package dev.tornadonn.jvm;

/**
 * A weight as the packed GEMM reads it: runs of one row's columns decoded to f32, a K block at a
 * time, while the GEMM packs them. Dense weights decode as they are stored; a quantised weight
 * decodes to its dequantised values (scales applied), so one register-blocked micro-kernel serves
 * every format and a quantised GEMM costs an f32 one plus a decode that many rows of x share.
 *
 * <p>Implementations are read by several worker threads at once and hold no per-call state
 * beyond what their owner sets before the GEMM starts.
 */
interface DecodedRows {

    /**
     * Columns {@code [from, from + len)} of row {@code row} into {@code out[at .. at + len)};
     * {@code from} is a multiple of {@link VectorGemm#KC} and {@code len} is {@code KC} but at
     * the row's end.
     */
    void decode(int row, int from, int len, float[] out, int at);
}

package dev.tornadonn.jvm;

/**
 * Decodes one row of a {@link GroupQuantLayout} into floats: the fused dequantisation of the
 * quantised linear, one row at a time (never the whole matrix), scalar or vector.
 */
interface GroupQuantKernels {

    /** Row {@code n} of {@code w}, in the layout's padded column order, into {@code out[0 .. paddedCols)}. */
    default void decodeRow(GroupQuantLayout w, int n, float[] out) {
        decodeChunks(w, n, 0, w.chunks(), out, 0);
    }

    /**
     * Chunks {@code [c0, c0 + count)} of row {@code n} (positions {@code 128·c0 ..}, each
     * {@link GroupQuantLayout#CHUNK} wide) into {@code out[at ..]}.
     */
    void decodeChunks(GroupQuantLayout w, int n, int c0, int count, float[] out, int at);

    /** x's sum over each group's positions, {@code xsum[g]}, from one gathered row {@code xp}. */
    default void groupSums(GroupQuantLayout w, float[] xp, float[] xsum) {
        // A block at a time into a local: adding each position straight into xsum[group] waits on
        // the previous store and add every time.
        java.util.Arrays.fill(xsum, 0, w.groups(), 0f);
        int[] blockGroup = w.blockGroup();
        for (int b = 0; b < blockGroup.length; b++) {
            float s = 0f;
            for (int pos = b * GroupQuantLayout.BLOCK; pos < (b + 1) * GroupQuantLayout.BLOCK; pos++) {
                s += xp[pos];
            }
            xsum[blockGroup[b]] += s;
        }
    }

    /** {@code Σ a[ao + i]·b[i]} for i below len. */
    float dot(float[] a, int ao, float[] b, int len);

    /**
     * Row {@code n} of {@code w} times one gathered input row {@code xp[xo ..]}, in one pass:
     * {@code Σ_g scale·(Σ_{k∈g} q·x) − Σ_g scale·zero·xsum[g]}, with {@code xsum[g]} the input's
     * sum over group g. Integer codes go straight into the products; nothing is stored.
     */
    float fusedDot(GroupQuantLayout w, int n, float[] xp, int xo, float[] xsum);

    /** The most weight rows {@link #rowsTimesX} takes at once. */
    int ROWS = 4;

    /**
     * One gathered input row {@code xp}, arranged once per call for {@link #rowsTimesX}: {@code xp}
     * itself, or the calling thread's scratch, valid until its next call.
     */
    float[] arrangeInput(GroupQuantLayout w, float[] xp);

    /**
     * {@link #fusedDot} of rows {@code n .. n + rows − 1} (rows at most {@link #ROWS}) with one
     * input row into {@code out[0 .. rows)}; {@code xa} is {@link #arrangeInput} of {@code xp}.
     */
    void rowsTimesX(GroupQuantLayout w, int n, int rows, float[] xp, float[] xa, float[] xsum, float[] out);

    /** {@code Σ_g scale[n, g]·zero[n, g]·xsum[g]}: the zero points' share, once per row. */
    static float zeroTerm(GroupQuantLayout w, int n, float[] xsum) {
        float t = 0f;
        int base = n * w.groups();
        for (int g = 0; g < w.groups(); g++) {
            t += w.scales()[base + g] * w.zeros()[base + g] * xsum[g];
        }
        return t;
    }

    /** The code at {@code lane} of nibble plane {@code plane} in chunk {@code c} of row {@code n}. */
    static int code(GroupQuantLayout w, int n, int c, int plane, int lane) {
        int q = 0;
        for (int p = 0; p < w.planes(); p++) {
            int word = w.packed().getAtIndex(java.lang.foreign.ValueLayout.JAVA_INT,
                    (long) (n * w.planes() + p) * w.planeInts() + c * GroupQuantLayout.INTS_PER_CHUNK + lane);
            q |= ((word >>> (4 * plane)) & 0xF) << (4 * p);
        }
        return q;
    }

    final class Scalar implements GroupQuantKernels {
        @Override
        public void decodeChunks(GroupQuantLayout w, int n, int c0, int count, float[] out, int at) {
            for (int c = c0; c < c0 + count; c++) {
                for (int plane = 0; plane < 8; plane++) {
                    int block = c * 8 + plane;
                    int g = n * w.groups() + w.blockGroup()[block];
                    float scale = w.scales()[g];
                    float zero = w.zeros()[g];
                    for (int lane = 0; lane < GroupQuantLayout.BLOCK; lane++) {
                        int q = code(w, n, c, plane, lane);
                        out[at + (block - 8 * c0) * GroupQuantLayout.BLOCK + lane] = (q - zero) * scale;
                    }
                }
            }
        }

        @Override
        public float fusedDot(GroupQuantLayout w, int n, float[] xp, int xo, float[] xsum) {
            float total = 0f;
            for (int c = 0; c < w.chunks(); c++) {
                for (int plane = 0; plane < 8; plane++) {
                    int block = c * 8 + plane;
                    float partial = 0f;
                    for (int lane = 0; lane < GroupQuantLayout.BLOCK; lane++) {
                        int q = code(w, n, c, plane, lane);
                        partial += q * xp[xo + block * GroupQuantLayout.BLOCK + lane];
                    }
                    total += partial * w.scales()[n * w.groups() + w.blockGroup()[block]];
                }
            }
            return total - GroupQuantKernels.zeroTerm(w, n, xsum);
        }

        @Override
        public float[] arrangeInput(GroupQuantLayout w, float[] xp) {
            return xp;
        }

        @Override
        public void rowsTimesX(GroupQuantLayout w, int n, int rows, float[] xp, float[] xa, float[] xsum, float[] out) {
            for (int r = 0; r < rows; r++) {
                out[r] = fusedDot(w, n + r, xp, 0, xsum);
            }
        }

        @Override
        public float dot(float[] a, int ao, float[] b, int len) {
            float s = 0f;
            for (int i = 0; i < len; i++) {
                s += a[ao + i] * b[i];
            }
            return s;
        }
    }
}

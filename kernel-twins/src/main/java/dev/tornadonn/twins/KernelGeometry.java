package dev.tornadonn.twins;

/**
 * The launch shapes shared by the device kernels and their twins. GEMM: one {@code TILE × TILE}
 * work-group per {@code TILE_OUT × TILE_OUT} output tile, x along the output features (coalesced
 * stores), y along the rows.
 * GEMV: one {@code GEMV_THREADS}-wide work-group per (row, feature), reducing in local memory.
 */
public final class KernelGeometry {
    /** Side of a GEMM work-group, in work-items, and the K step: each K step stages TILE columns. */
    public static final int TILE = 16;
    /** Each GEMM work-item computes BLOCK × BLOCK outputs, so a work-group covers TILE_OUT × TILE_OUT. */
    public static final int BLOCK = 4;
    public static final int TILE_OUT = TILE * BLOCK;
    /** Local tiles are padded to TILE + 1 columns against bank conflicts. */
    public static final int PADDED = TILE + 1;
    /** Work-items per GEMV work-group: a power of two for the tree reduction. */
    public static final int GEMV_THREADS = 64;
    /** Rows of x up to which the GEMV kernel is used; above it the tiled GEMM reuses each weight tile. */
    public static final int GEMV_MAX_ROWS = 8;

    private KernelGeometry() {}

    public static boolean usesGemv(int m) {
        return m <= GEMV_MAX_ROWS;
    }

    /** GEMM work-groups along a dimension of {@code n} outputs. */
    public static int groups(int n) {
        return (n + TILE_OUT - 1) / TILE_OUT;
    }

    /** The GEMM's global work size along a dimension of {@code n} outputs. */
    public static int gemmGlobal(int n) {
        return Math.max(1, groups(n)) * TILE;
    }
}

package dev.tornadonn.twins;

/**
 * The launch shapes shared by the device kernels and their twins. GEMM: one {@code TILE × TILE}
 * work-group per output tile, x along the output features (coalesced stores), y along the rows.
 * GEMV: one {@code GEMV_THREADS}-wide work-group per (row, feature), reducing in local memory.
 */
public final class KernelGeometry {
    /** Side of a GEMM tile; local tiles are padded to {@code TILE + 1} columns against bank conflicts. */
    public static final int TILE = 16;
    public static final int PADDED = TILE + 1;
    /** Work-items per GEMV work-group: a power of two for the tree reduction. */
    public static final int GEMV_THREADS = 64;
    /** Rows of x up to which the GEMV kernel is used; above it the tiled GEMM reuses each weight tile. */
    public static final int GEMV_MAX_ROWS = 8;

    private KernelGeometry() {}

    public static boolean usesGemv(int m) {
        return m <= GEMV_MAX_ROWS;
    }

    /** {@code n} rounded up to whole tiles. */
    public static int tiles(int n) {
        return (n + TILE - 1) / TILE * TILE;
    }
}

package dev.tornadonn.jvm;

/**
 * A weight in one of the JVM kernels' layouts. Several blocks that cannot share one layout (an
 * MLP's gate and up with different act-order permutations, or fp8 or int8 static input scales of
 * their own) stay {@link Stacked}: each runs into its own columns of the output.
 */
sealed interface KernelLayout permits DenseLayout, GroupQuantLayout, Fp8Layout, GgufLayout, Int8Layout, KernelLayout.Stacked {

    int rows();

    int cols();

    /** What the layout holds, in bytes. */
    long bytes();

    record Stacked(java.util.List<KernelLayout> parts, int rows, int cols) implements KernelLayout {
        @Override
        public long bytes() {
            return parts.stream().mapToLong(KernelLayout::bytes).sum();
        }
    }
}

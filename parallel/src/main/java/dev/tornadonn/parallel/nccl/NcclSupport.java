package dev.tornadonn.parallel.nccl;

/**
 * Whether NCCL can run here: the CUDA runtime and {@code libnccl.so.2} load, at least one GPU
 * is visible and NCCL is recent enough. Detected once per JVM; loading never escapes as an error.
 */
public sealed interface NcclSupport {

    record Available(NcclVersion version, int gpuCount, int cudaRuntimeVersion, int cudaDriverVersion)
            implements NcclSupport {
        @Override
        public String toString() {
            return "NCCL " + version + ", " + gpuCount + " GPU(s), CUDA runtime " + cudaVersion(cudaRuntimeVersion)
                    + ", driver " + cudaVersion(cudaDriverVersion);
        }
    }

    record Unavailable(String reason) implements NcclSupport {}

    /** The cached answer for this JVM. */
    static NcclSupport detect() {
        return NcclProbe.cached();
    }

    /** Throws a clear {@link NcclException} unless NCCL is available. */
    static Available require() {
        return switch (detect()) {
            case Available a -> a;
            case Unavailable u -> throw new NcclException("NCCL is not available: " + u.reason());
        };
    }

    private static String cudaVersion(int v) {
        return v / 1000 + "." + v % 1000 / 10;
    }
}

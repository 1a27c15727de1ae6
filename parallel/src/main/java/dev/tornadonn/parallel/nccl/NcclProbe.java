package dev.tornadonn.parallel.nccl;

import static org.bytedeco.cuda.global.cudart.cudaDriverGetVersion;
import static org.bytedeco.cuda.global.cudart.cudaGetDeviceCount;
import static org.bytedeco.cuda.global.cudart.cudaRuntimeGetVersion;
import static org.bytedeco.cuda.global.cudart.cudaSuccess;

import org.bytedeco.cuda.global.cudart;
import org.bytedeco.cuda.global.nccl;
import org.bytedeco.javacpp.Loader;

/** Loads cudart and nccl and asks what is there; the only place that may meet a missing native library. */
final class NcclProbe {
    private static final class Cache {
        static final NcclSupport DETECTED = probe();
    }

    private NcclProbe() {}

    static NcclSupport cached() {
        return Cache.DETECTED;
    }

    static NcclSupport probe() {
        String stage = "load the CUDA runtime (libcudart.so.13 and the bytedeco jnicudart glue)";
        try {
            Loader.load(cudart.class);
            stage = "count CUDA devices";
            int[] count = new int[1];
            int rc = cudaGetDeviceCount(count);
            if (rc != cudaSuccess) {
                return new NcclSupport.Unavailable("cudaGetDeviceCount failed: " + Checks.cudaError(rc)
                        + " (no GPU, or no CUDA 13 driver)");
            }
            if (count[0] == 0) {
                return new NcclSupport.Unavailable("the CUDA runtime sees no GPU");
            }
            int[] runtime = new int[1];
            int[] driver = new int[1];
            Checks.cuda(cudaRuntimeGetVersion(runtime), "cudaRuntimeGetVersion");
            Checks.cuda(cudaDriverGetVersion(driver), "cudaDriverGetVersion");
            stage = "load NCCL (the system's libnccl.so.2)";
            Loader.load(nccl.class);
            stage = "ask NCCL its version";
            int[] code = new int[1];
            rc = nccl.ncclGetVersion(code);
            if (rc != nccl.ncclSuccess) {
                return new NcclSupport.Unavailable("ncclGetVersion failed with ncclResult_t " + rc);
            }
            NcclVersion version = NcclVersion.fromCode(code[0]);
            if (!version.atLeast(NcclCall.OLDEST_SUPPORTED)) {
                return new NcclSupport.Unavailable("libnccl.so.2 is NCCL " + version + "; Tornado NN needs "
                        + NcclCall.OLDEST_SUPPORTED + " or newer");
            }
            return new NcclSupport.Available(version, count[0], runtime[0], driver[0]);
        } catch (LinkageError | RuntimeException e) {
            // UnsatisfiedLinkError when a library is missing, ExceptionInInitializerError or
            // NoClassDefFoundError from the presets' static initialisers, RuntimeException from Loader.
            return new NcclSupport.Unavailable("could not " + stage + ": " + rootMessage(e));
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String m = t.getMessage();
        return t.getClass().getSimpleName() + (m == null ? "" : ": " + m.lines().findFirst().orElse(""));
    }
}

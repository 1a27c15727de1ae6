package dev.tornadonn.parallel.nccl;

import org.bytedeco.cuda.global.cudart;
import org.bytedeco.cuda.global.nccl;

/** Turns CUDA and NCCL status codes into exceptions carrying the libraries' own error strings. */
final class Checks {
    private Checks() {}

    static void nccl(int result, String what) {
        if (result != nccl.ncclSuccess) {
            throw new NcclException(what + " failed: " + ncclError(result));
        }
    }

    static void cuda(int error, String what) {
        if (error != cudart.cudaSuccess) {
            throw new NcclException(what + " failed: " + cudaError(error));
        }
    }

    static String ncclError(int result) {
        return nccl.ncclGetErrorString(result).getString() + " (ncclResult_t " + result + ")";
    }

    static String cudaError(int error) {
        return cudart.cudaGetErrorString(error).getString() + " (cudaError_t " + error + ")";
    }
}

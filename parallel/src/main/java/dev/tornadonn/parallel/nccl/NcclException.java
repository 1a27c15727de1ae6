package dev.tornadonn.parallel.nccl;

/** An NCCL or CUDA call failed, or NCCL is not usable here; the message carries the library's own words. */
public final class NcclException extends RuntimeException {
    public NcclException(String message) {
        super(message);
    }

    public NcclException(String message, Throwable cause) {
        super(message, cause);
    }
}

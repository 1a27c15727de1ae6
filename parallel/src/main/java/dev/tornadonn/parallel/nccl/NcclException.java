package dev.tornadonn.parallel.nccl;

import dev.tornadonn.core.TornadoNnException;

/** An NCCL or CUDA call failed, or NCCL is not usable here; the message carries the library's own words. */
public final class NcclException extends TornadoNnException {
    private static final long serialVersionUID = 1L;

    public NcclException(String message) {
        super(message);
    }

    public NcclException(String message, Throwable cause) {
        super(message, cause);
    }
}

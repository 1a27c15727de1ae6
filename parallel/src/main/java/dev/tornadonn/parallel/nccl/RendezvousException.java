package dev.tornadonn.parallel.nccl;

import dev.tornadonn.core.TornadoNnException;

/** The processes of a world could not agree on a unique id: timeout, refused peer, short read. */
public final class RendezvousException extends TornadoNnException {
    private static final long serialVersionUID = 1L;

    public RendezvousException(String message) {
        super(message);
    }

    public RendezvousException(String message, Throwable cause) {
        super(message, cause);
    }
}

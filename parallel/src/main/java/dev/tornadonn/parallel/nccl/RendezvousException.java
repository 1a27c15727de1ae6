package dev.tornadonn.parallel.nccl;

/** The processes of a world could not agree on a unique id: timeout, refused peer, short read. */
public final class RendezvousException extends RuntimeException {
    public RendezvousException(String message) {
        super(message);
    }

    public RendezvousException(String message, Throwable cause) {
        super(message, cause);
    }
}

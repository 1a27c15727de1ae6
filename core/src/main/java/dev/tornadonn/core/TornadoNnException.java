package dev.tornadonn.core;

/** The base of this library's exceptions: each message names what was wrong and where. */
public class TornadoNnException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public TornadoNnException(String message) {
        super(message);
    }

    public TornadoNnException(String message, Throwable cause) {
        super(message, cause);
    }
}

package dev.tornadonn.core.io;

import dev.tornadonn.core.TornadoNnException;

/** A GGUF file is malformed or cannot be read; the message names the file and, where there is one, the key or tensor. */
public class GgufException extends TornadoNnException {
    private static final long serialVersionUID = 1L;

    public GgufException(String message) {
        super(message);
    }

    public GgufException(String message, Throwable cause) {
        super(message, cause);
    }
}

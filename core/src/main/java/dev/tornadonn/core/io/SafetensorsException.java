package dev.tornadonn.core.io;

import dev.tornadonn.core.TornadoNnException;

/** A safetensors file is malformed; the message names the file and, where there is one, the tensor. */
public class SafetensorsException extends TornadoNnException {
    private static final long serialVersionUID = 1L;

    public SafetensorsException(String message) {
        super(message);
    }

    public SafetensorsException(String message, Throwable cause) {
        super(message, cause);
    }
}

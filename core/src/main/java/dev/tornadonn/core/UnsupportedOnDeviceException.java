package dev.tornadonn.core;

/** A device's backend cannot run what was asked of it (a weight format, an operation); the message names both. */
public class UnsupportedOnDeviceException extends TornadoNnException {
    private static final long serialVersionUID = 1L;

    public UnsupportedOnDeviceException(String message) {
        super(message);
    }
}

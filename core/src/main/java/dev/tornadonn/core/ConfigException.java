package dev.tornadonn.core;

/**
 * A configuration, option or argument the library cannot accept (a dimension, a dtype, a
 * quantisation setting, a device list, a tensor of the wrong shape for a layer): the message names
 * it, the value given and what would do.
 */
public class ConfigException extends TornadoNnException {
    private static final long serialVersionUID = 1L;

    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}

package dev.tornadonn.core;

/** A checkpoint does not match what a layer declares: a missing, unexpected, mis-shaped or mis-typed key. */
public class WeightLoadException extends TornadoNnException {
    private static final long serialVersionUID = 1L;

    public WeightLoadException(String message) {
        super(message);
    }
}

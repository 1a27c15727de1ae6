package dev.tornadonn.core;

/** A checkpoint does not match what a layer declares: a missing, unexpected, mis-shaped or mis-typed key. */
public class WeightLoadException extends TornadoNnException {
    public WeightLoadException(String message) {
        super(message);
    }
}

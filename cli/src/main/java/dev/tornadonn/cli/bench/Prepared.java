package dev.tornadonn.cli.bench;

/** A built case: the operation to time and the bytes of weight it streams per call. */
public record Prepared(Runnable op, long weightBytes, String description) {}

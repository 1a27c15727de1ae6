package dev.tornadonn.jvm;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The kernels' working arrays, one set per thread, kept from call to call and grown on demand, so
 * that a steady-state forward allocates nothing on the heap. A kernel worker holds its set in a
 * field; any other thread (a caller, which also runs a share of its call's tasks) in a
 * thread-local, so concurrent forwards from several threads never share an array.
 *
 * <p>Each use of an array is a {@link Key}, declared once as a constant where it is used: what a
 * caller holds across a call (its x, its y) and what a task fills (a decoded row) are different
 * keys, so nothing a thread still needs is handed out twice. The contents are whatever the last
 * use left: a user writes every element it reads. Arrays are at least the size asked, often
 * larger: a user indexes by its own sizes, never by {@code length}.
 *
 * <p>An array over {@value #KEEP_FLOATS} floats (16 MiB, a long prefill's activations) is handed
 * out fresh and not kept: a thread does not hold that much for good, and the GEMM it feeds costs
 * far more than the allocation.
 */
final class Scratch {
    static final int KEEP_FLOATS = 1 << 22;
    private static final AtomicInteger KEYS = new AtomicInteger();
    private static final ThreadLocal<Scratch> LOCAL = ThreadLocal.withInitial(Scratch::new);

    /** One use of a scratch array, e.g. {@code Scratch.key("decoded weight row")}. */
    record Key(int index, String use) {}

    static Key key(String use) {
        return new Key(KEYS.getAndIncrement(), use);
    }

    /** Room for this many keys from the start (the kernels declare about twenty), grown if more come. */
    private static final int INITIAL_KEYS = 64;
    private float[][] floats = new float[INITIAL_KEYS][];
    private byte[][] bytes = new byte[INITIAL_KEYS][];

    /** The calling thread's scratch. */
    static Scratch current() {
        return Thread.currentThread() instanceof Parallel.Worker w ? w.scratch : LOCAL.get();
    }

    /** At least {@code size} floats, for {@code key}'s use. */
    float[] floats(Key key, int size) {
        int i = key.index();
        if (i >= floats.length) {
            floats = Arrays.copyOf(floats, KEYS.get());
        }
        float[] a = floats[i];
        if (a != null && a.length >= size) {
            return a;
        }
        a = new float[size];
        if (size <= KEEP_FLOATS) {
            floats[i] = a;
        }
        return a;
    }

    /** At least {@code size} bytes, for {@code key}'s use. */
    byte[] bytes(Key key, int size) {
        int i = key.index();
        if (i >= bytes.length) {
            bytes = Arrays.copyOf(bytes, KEYS.get());
        }
        byte[] a = bytes[i];
        if (a != null && a.length >= size) {
            return a;
        }
        a = new byte[size];
        if (size <= 4 * KEEP_FLOATS) {
            bytes[i] = a;
        }
        return a;
    }
}

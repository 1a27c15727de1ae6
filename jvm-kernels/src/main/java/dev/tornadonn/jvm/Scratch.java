package dev.tornadonn.jvm;

import java.lang.reflect.Array;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

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
 * <p>An array over 16 MiB ({@value #KEEP_FLOATS} floats, a long prefill's activations) is handed
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
    /** Each key's array: one element type per key, as its use declares it. */
    private Object[] arrays = new Object[INITIAL_KEYS];

    /** The calling thread's scratch. */
    static Scratch current() {
        return Thread.currentThread() instanceof Parallel.Worker w ? w.scratch : LOCAL.get();
    }

    /** At least {@code size} floats, for {@code key}'s use. */
    float[] floats(Key key, int size) {
        return take(key, size, Float.BYTES, float[]::new);
    }

    /** At least {@code size} bytes, for {@code key}'s use. */
    byte[] bytes(Key key, int size) {
        return take(key, size, 1, byte[]::new);
    }

    /** At least {@code size} shorts, for {@code key}'s use. */
    short[] shorts(Key key, int size) {
        return take(key, size, Short.BYTES, short[]::new);
    }

    /** At least {@code size} longs, for {@code key}'s use. */
    long[] longs(Key key, int size) {
        return take(key, size, Long.BYTES, long[]::new);
    }

    /** {@code key}'s array if it holds {@code size} elements, else a new one, kept unless over the limit. */
    @SuppressWarnings("unchecked")
    private <A> A take(Key key, int size, int elementBytes, IntFunction<A> make) {
        int i = key.index();
        if (i >= arrays.length) {
            arrays = Arrays.copyOf(arrays, KEYS.get());
        }
        Object a = arrays[i];
        if (a != null && Array.getLength(a) >= size) {
            return (A) a;
        }
        A fresh = make.apply(size);
        if ((long) size * elementBytes <= (long) KEEP_FLOATS * Float.BYTES) {
            arrays[i] = fresh;
        }
        return fresh;
    }
}

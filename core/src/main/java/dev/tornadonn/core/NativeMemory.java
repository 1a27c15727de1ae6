package dev.tornadonn.core;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Zero-filled, aligned off-heap memory from the C library's {@code calloc}, freed by a cleaner
 * when the segment becomes unreachable. An {@link Arena} allocation counts against the JVM's
 * direct-memory limit (by default the heap size), which a checkpoint larger than the heap
 * exceeds; calloc is bounded only by the machine. Where native access is denied, arenas serve.
 */
public final class NativeMemory {
    /** Wide enough for the widest vector loads and for cache lines. */
    public static final long ALIGNMENT = 64;
    private static final MethodHandle CALLOC;
    private static final MethodHandle FREE;

    static {
        MethodHandle calloc = null;
        MethodHandle free = null;
        try {
            Linker linker = Linker.nativeLinker();
            var libc = linker.defaultLookup();
            calloc = linker.downcallHandle(libc.find("calloc").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
            free = linker.downcallHandle(libc.find("free").orElseThrow(), FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));
        } catch (RuntimeException e) { // IllegalCallerException under --illegal-native-access=deny, or no libc symbols
            calloc = null;
            free = null;
        }
        CALLOC = calloc;
        FREE = free;
    }

    private NativeMemory() {}

    /**
     * {@code bytes} zeroed bytes aligned to {@link #ALIGNMENT}.
     *
     * @param what names the allocation in the error when the machine refuses it
     */
    public static MemorySegment allocate(long bytes, String what) {
        if (bytes < 0) {
            throw new ConfigException("cannot allocate " + bytes + " bytes for " + what);
        }
        if (CALLOC == null) {
            try {
                return Arena.ofAuto().allocate(Math.max(bytes, 1), ALIGNMENT).asSlice(0, bytes);
            } catch (OutOfMemoryError e) {
                throw outOfMemory(bytes, what, e);
            }
        }
        long total = bytes + ALIGNMENT;
        MemorySegment raw;
        try {
            raw = (MemorySegment) CALLOC.invokeExact(1L, total);
        } catch (Throwable t) {
            throw new IllegalStateException("calloc failed", t);
        }
        if (raw.equals(MemorySegment.NULL)) {
            throw outOfMemory(bytes, what, null);
        }
        // The cleanup receives a fresh segment at the same address, so it keeps nothing reachable.
        MemorySegment owned = raw.reinterpret(total, Arena.ofAuto(), NativeMemory::free);
        long pad = (-raw.address()) & (ALIGNMENT - 1);
        return owned.asSlice(pad, bytes);
    }

    private static void free(MemorySegment s) {
        try {
            FREE.invokeExact(s);
        } catch (Throwable t) {
            throw new IllegalStateException("free failed", t);
        }
    }

    /** One line naming what was being allocated and how much: what a user can act on. */
    public static OutOfMemory outOfMemory(long bytes, String what, Throwable cause) {
        return new OutOfMemory("out of memory: cannot allocate " + bytes + " bytes ("
                + String.format("%.2f GiB", bytes / (double) (1L << 30)) + ") for " + what, cause);
    }

    /** The machine refused an allocation; the message says how much, and for what. */
    public static final class OutOfMemory extends TornadoNnException {
        private static final long serialVersionUID = 1L;

        public OutOfMemory(String message, Throwable cause) {
            super(message, cause);
        }

        /** The same failure, its message led by {@code who} (e.g. the layer whose weight it was). */
        public OutOfMemory namedFor(String who) {
            return new OutOfMemory(who + ": " + getMessage(), this);
        }
    }
}

package dev.tornadonn.core.io;

import java.lang.foreign.MemorySegment;

/**
 * Copies out of memory-mapped checkpoints a chunk at a time, dropping each chunk's pages from
 * this process once copied: a mapped page that has been read counts in the resident set until
 * it is unmapped or released, so copying a whole checkpoint would otherwise hold it twice.
 */
public final class MappedCopy {
    /** Large enough that releasing costs nothing measurable, small against any weight worth releasing. */
    public static final long CHUNK = 32L << 20;

    private MappedCopy() {}

    /** {@code dst[dstOffset, +src.byteSize()) = src}, releasing src's pages as it goes when src is mapped. */
    public static void copy(MemorySegment src, MemorySegment dst, long dstOffset) {
        long size = src.byteSize();
        for (long at = 0; at < size; at += CHUNK) {
            long n = Math.min(CHUNK, size - at);
            MemorySegment.copy(src, at, dst, dstOffset + at, n);
            release(src.asSlice(at, n));
        }
    }

    /** Drops {@code s}'s pages from this process's resident set if it is a file mapping; a no-op otherwise. */
    public static void release(MemorySegment s) {
        if (s.isMapped() && s.byteSize() > 0) {
            s.unload();
        }
    }
}

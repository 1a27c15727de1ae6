package dev.tornadonn.cli.bench;

import dev.tornadonn.core.ConfigException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicInteger;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The memory-bandwidth probe, reading memory the way the JVM GEMV kernels read their weights: the
 * array is a matrix of {@code rowBytes}-byte rows, walked {@value #STREAMS} rows side by side with
 * vector loads (as the dense and FP8 GEMVs walk eight weight rows per pass), the rows cut into
 * {@value #RANGES_PER_THREAD} contiguous ranges per thread that every thread takes from in turn
 * (as the kernels' row ranges are spread over their pool). A core keeps only so many cache-line
 * fetches in flight per address stream, so a probe that summed one stream per core under-read
 * what the GEMVs stream and flattered every bandwidth fraction against it (the f32 GEMV plotted at
 * 124 % of that roof).
 *
 * @param threads  threads reading at once; the kernels use one per core
 * @param bytes    the array's size, far larger than the last-level cache (rounded down to whole blocks of rows)
 * @param rowBytes one row: the f32 GEMV's of the targets by default ({@link #ROW_BYTES})
 */
public record ReadProbe(int threads, long bytes, int rowBytes) {
    /** Rows read side by side: VectorGemv.ROWS and Fp8Kernels.ROWS in jvm-kernels. */
    public static final int STREAMS = 8;
    /** A row of the targets' f32 GEMV, 8192 floats. */
    public static final int ROW_BYTES = Targets.GEMV_K * Float.BYTES;
    /** Row ranges per thread, as Parallel.forRows cuts a GEMV's rows. */
    static final int RANGES_PER_THREAD = 16;
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    public ReadProbe {
        if (threads < 1) {
            throw new ConfigException("the read probe needs at least 1 thread, not " + threads);
        }
        if (rowBytes < S.vectorByteSize() || rowBytes % S.vectorByteSize() != 0) {
            throw new ConfigException("the read probe's rows must be a positive multiple of " + S.vectorByteSize()
                    + " bytes (one vector), not " + rowBytes);
        }
        long least = (long) threads * STREAMS * rowBytes;
        if (bytes < least) {
            throw new ConfigException("the read probe's array of " + bytes + " bytes holds less than one block of "
                    + STREAMS + " rows of " + rowBytes + " bytes per thread (" + threads + " threads): give at least "
                    + least + " bytes");
        }
    }

    /** The probe for {@code threads} threads over {@code bytes} bytes, in rows of the targets' f32 GEMV. */
    public static ReadProbe of(int threads, long bytes) {
        return new ReadProbe(threads, bytes, ROW_BYTES);
    }

    /** Rows read: a whole number of blocks of {@value #STREAMS}. */
    public long rows() {
        return bytes / rowBytes / STREAMS * STREAMS;
    }

    /** The bytes each pass reads: {@link #rows()} whole rows. */
    public long bytesRead() {
        return rows() * rowBytes;
    }

    /** The row ranges the threads take in turn: {@value #RANGES_PER_THREAD} per thread, fewer when there are few blocks. */
    public int ranges() {
        return (int) Math.min(blocks(), (long) threads * RANGES_PER_THREAD);
    }

    /** Where range {@code r} starts, in rows: a multiple of {@value #STREAMS}; {@link #rows()} for r = ranges. */
    public long rangeStart(int r) {
        return blocks() * r / ranges() * STREAMS;
    }

    private long blocks() {
        return rows() / STREAMS;
    }

    /** Read bandwidth in GB/s (10⁹ bytes): the best of five passes, since a busy neighbour can only make a pass slower. */
    public double measureGBs() {
        // Arena memory is malloc'd, as the weights' calloc'd memory is: the same kind of pages.
        try (Arena arena = Arena.ofShared()) {
            MemorySegment data = arena.allocate(bytesRead(), 64);
            data.fill((byte) 1); // touch every page, so the timed passes do not measure page faults
            MemorySegment small = data.asSlice(0, (long) STREAMS * rowBytes);
            MachineProbe.warmUp(() -> eightRows(small, 0, rowBytes, rowBytes));
            double best = 0;
            for (int pass = 0; pass < 5; pass++) {
                AtomicInteger next = new AtomicInteger();
                long t0 = System.nanoTime();
                MachineProbe.onAllThreads(threads, t -> readRanges(data, next));
                double s = (System.nanoTime() - t0) / 1e9;
                best = Math.max(best, bytesRead() / s / 1e9);
            }
            return best;
        }
    }

    /** The sum of every float of {@code data} as one pass reads it (all threads); for tests, that every byte is read once. */
    double sumAll(MemorySegment data) {
        AtomicInteger next = new AtomicInteger();
        return MachineProbe.onAllThreads(threads, t -> readRanges(data, next));
    }

    /** Takes ranges until none is left, reading each: what one thread does in a pass. */
    private double readRanges(MemorySegment data, AtomicInteger next) {
        double sum = 0;
        for (int r = next.getAndIncrement(); r < ranges(); r = next.getAndIncrement()) {
            for (long row = rangeStart(r); row < rangeStart(r + 1); row += STREAMS) {
                sum += eightRows(data, row * rowBytes, rowBytes, rowBytes);
            }
        }
        return sum;
    }

    /**
     * The rows at {@code base + i·stride}, i below {@value #STREAMS}, read side by side, one vector
     * of each per step into an accumulator of its own (the GEMV's FMAs with x would only add work
     * that hides nothing: the loads are the limit).
     */
    private static float eightRows(MemorySegment s, long base, long stride, long rowBytes) {
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        long step = S.vectorByteSize();
        for (long o = base, end = base + rowBytes; o < end; o += step) {
            a0 = a0.add(FloatVector.fromMemorySegment(S, s, o, ORDER));
            a1 = a1.add(FloatVector.fromMemorySegment(S, s, o + stride, ORDER));
            a2 = a2.add(FloatVector.fromMemorySegment(S, s, o + 2 * stride, ORDER));
            a3 = a3.add(FloatVector.fromMemorySegment(S, s, o + 3 * stride, ORDER));
            a4 = a4.add(FloatVector.fromMemorySegment(S, s, o + 4 * stride, ORDER));
            a5 = a5.add(FloatVector.fromMemorySegment(S, s, o + 5 * stride, ORDER));
            a6 = a6.add(FloatVector.fromMemorySegment(S, s, o + 6 * stride, ORDER));
            a7 = a7.add(FloatVector.fromMemorySegment(S, s, o + 7 * stride, ORDER));
        }
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).reduceLanes(VectorOperators.ADD);
    }
}

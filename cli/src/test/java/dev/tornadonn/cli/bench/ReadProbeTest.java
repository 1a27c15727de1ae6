package dev.tornadonn.cli.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tornadonn.core.ConfigException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.Field;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.OptionalLong;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The bandwidth probe reads as the GEMV kernels do, and reads every byte of its array once; no timing. */
class ReadProbeTest {

    /** A constant of a jvm-kernels class that is not public: what the kernels do, not what this test says. */
    private static int kernelConstant(String className, String field) throws ReflectiveOperationException {
        Field f = Class.forName("dev.tornadonn.jvm." + className).getDeclaredField(field);
        f.setAccessible(true);
        return f.getInt(null);
    }

    @Test
    void theProbeReadsAsManyRowsSideBySideAsTheGemvKernels() throws ReflectiveOperationException {
        assertEquals(kernelConstant("VectorGemv", "ROWS"), ReadProbe.STREAMS, "the dense GEMV's rows per pass");
        assertEquals(kernelConstant("Fp8Kernels", "ROWS"), ReadProbe.STREAMS, "the FP8 GEMV's rows per pass");
        ReadProbe p = ReadProbe.of(2, 1L << 30);
        assertEquals(8192 * 4, p.rowBytes(), "a row of the 32768 x 8192 f32 GEMV");
        assertEquals(32768, p.rows(), "1 GiB: as many rows as the targets' f32 GEMV, the same bytes");
        assertEquals(1L << 30, p.bytesRead());
        assertEquals(2 * 16, p.ranges(), "16 row ranges per thread, as the kernels cut theirs");
    }

    @Test
    void theRangesCoverEveryRowOnceInWholeBlocks() {
        long seed = System.nanoTime();
        System.out.println("ReadProbeTest ranges: seed " + seed);
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int trial = 0; trial < 50; trial++) {
            int threads = 1 + rnd.nextInt(16);
            int rowBytes = 64 * (1 + rnd.nextInt(64));
            long bytes = (long) threads * ReadProbe.STREAMS * rowBytes * (1 + rnd.nextInt(40)) + rnd.nextInt(rowBytes * 9);
            ReadProbe p = new ReadProbe(threads, bytes, rowBytes);
            String what = p + " (seed " + seed + ")";
            assertEquals(0, p.rangeStart(0), what);
            assertEquals(p.rows(), p.rangeStart(p.ranges()), what);
            assertTrue(p.rows() % ReadProbe.STREAMS == 0 && p.bytesRead() <= bytes
                    && bytes - p.bytesRead() < (long) ReadProbe.STREAMS * rowBytes, what);
            assertTrue(p.ranges() <= threads * 16 && p.ranges() >= Math.min(threads * 16, p.rows() / ReadProbe.STREAMS), what);
            for (int r = 0; r < p.ranges(); r++) {
                long from = p.rangeStart(r);
                long to = p.rangeStart(r + 1);
                assertTrue(to > from && from % ReadProbe.STREAMS == 0, what + " range " + r + ": " + from + ".." + to);
            }
        }
    }

    @Test
    void onePassReadsEveryFloatOnce() {
        // Small integers, so every partial sum is exact in f32: the total is the array's sum only if
        // each float is read exactly once, by whichever thread takes its range.
        for (int threads : new int[] {1, 2, 3}) {
            int rowBytes = 4096;
            long bytes = 3L * threads * ReadProbe.STREAMS * rowBytes + 5 * rowBytes; // five rows beyond whole blocks: not read
            ReadProbe p = new ReadProbe(threads, bytes, rowBytes);
            try (Arena arena = Arena.ofShared()) {
                MemorySegment data = arena.allocate(bytes, 64);
                long floats = bytes / 4;
                double expected = 0;
                for (long i = 0; i < floats; i++) {
                    float v = (float) ((i * 2654435761L >>> 7) & 15);
                    data.setAtIndex(ValueLayout.JAVA_FLOAT, i, v);
                    if (i < p.bytesRead() / 4) {
                        expected += v;
                    }
                }
                assertEquals(expected, p.sumAll(data), 0.0, threads + " threads");
            }
        }
    }

    @Test
    void aProbeThatCannotReadLikeTheKernelsIsRefused() {
        ConfigException small = assertThrows(ConfigException.class, () -> ReadProbe.of(4, 1L << 19));
        assertTrue(small.getMessage().contains("less than one block of 8 rows of 32768 bytes per thread (4 threads)"),
                small.getMessage());
        ConfigException odd = assertThrows(ConfigException.class, () -> new ReadProbe(2, 1L << 30, 1000));
        assertTrue(odd.getMessage().contains("not 1000"), odd.getMessage());
        assertThrows(ConfigException.class, () -> ReadProbe.of(0, 1L << 30));
    }

    @Test
    void theMachineLineSaysHowTheProbeReadAndHowFarBeyondTheCacheItsArrayIs() {
        MachineProbe.Roofline roof = new MachineProbe.Roofline(250, 30, 16, ReadProbe.of(2, 1L << 30));
        String line = Report.machine(roof, OptionalLong.of(32L << 20));
        assertTrue(line.contains("read bandwidth 30.0 GB/s (2 threads, each reading 8 rows of 32 KiB side by side"), line);
        assertTrue(line.contains("1024 MiB off-heap, 32× the 32 MiB last-level cache)"), line);
        String tooSmall = Report.machine(new MachineProbe.Roofline(250, 30, 16, ReadProbe.of(2, 512L << 20)), OptionalLong.of(300L << 20));
        assertTrue(tooSmall.contains("2× the 300 MiB last-level cache: too small, give a larger --probe-mib"), tooSmall);
        assertTrue(!Report.machine(roof, OptionalLong.empty()).contains("cache"), "no cache size known, none claimed");
    }

    @Test
    void aGemvReadingFasterThanTheProbeIsNoted() {
        MachineProbe.Roofline roof = new MachineProbe.Roofline(250, 20, 16, ReadProbe.of(2, 1L << 30));
        BenchCase gemv = BenchCase.linear(WeightFormat.F32, 1, 32768, 8192);
        long bytes = 4L * 32768 * 8192;
        double atRoof = (bytes + gemv.activationBytes()) / 20e9;
        StringWriter text = new StringWriter();
        Report.print(new PrintWriter(text), roof, null, true, List.of(
                new CaseResult(gemv, bytes, new Timing(atRoof / 1.24, atRoof / 1.25, atRoof / 1.2, 10, 0), null, roof),
                new CaseResult(BenchCase.linear(WeightFormat.BF16, 1, 32768, 8192), bytes / 2,
                        new Timing(atRoof / 2, atRoof / 2, atRoof / 2, 10, 0), null, roof),
                // 4 MiB of weights, read again from a cache on every call: fast, and no surprise.
                new CaseResult(BenchCase.linear(WeightFormat.F32, 1, 1024, 1024), 4L << 20,
                        new Timing(1e-4, 1e-4, 1e-4, 10, 0), null, roof)));
        List<String> notes = text.toString().lines().filter(l -> l.contains("of the measured bandwidth")).toList();
        assertEquals(List.of("note: gemv f32 M=1 N=32768 K=8192 reads at 124% of the measured bandwidth: its weights came"
                + " partly from a cache, or the probe under-read this machine"), notes, text.toString());
    }

    @Test
    void cacheSizesReadAsSysfsWritesThem() {
        assertEquals(32L << 20, MachineProbe.cacheSize("32768K\n"));
        assertEquals(300L << 20, MachineProbe.cacheSize("300M"));
        assertEquals(1L << 30, MachineProbe.cacheSize("1G"));
        assertEquals(512, MachineProbe.cacheSize("512"));
        assertEquals(-1, MachineProbe.cacheSize("lots"));
    }
}

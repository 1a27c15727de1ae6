package dev.tornadonn.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code tornado-nn bench}: the table, the chart and the option errors; no timing is asserted. */
class BenchCommandTest {

    @TempDir
    Path dir;

    private static CliRun run(String... args) {
        return CliRun.of(args);
    }

    @Test
    void quickSuitePrintsTheTableAndWritesTheChart() throws IOException {
        Path png = dir.resolve("roofline.png");
        // A small probe array and budget keep this test to seconds; the numbers are not checked.
        CliRun r = run("bench", "--suite", "quick", "--no-numpy", "--repeat", "3", "--budget", "0.05",
                "--probe-mib", "64", "--plot", png.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("machine: peak f32 FMA"), r.out());
        assertTrue(r.out().contains("numpy: skipped (--no-numpy)"), r.out());
        assertTrue(r.out().contains("each case timed in a JVM of its own"), r.out());
        assertTrue(!r.out().contains(" rounds ("), "the quick suite is one round: " + r.out());
        String header = r.out().lines().filter(l -> l.startsWith("case ")).findFirst().orElseThrow();
        for (String column : new String[] {"shape", "ms", "GFLOP/s", "GB/s", "flop/B", "roofline", "vs numpy"}) {
            assertTrue(header.contains(column), header);
        }
        for (String c : new String[] {"gemm f32", "gemm gptq-int4-g128", "gemv bf16", "gemv f16", "gemv fp8-e4m3",
            "gemv gptq-int4-g128", "mixed f32", "mixed fp8-e4m3", "mixed gptq-int4-g128", "mlp bf16"}) {
            assertTrue(r.out().contains(c), c + " missing from\n" + r.out());
        }
        assertTrue(r.out().contains("mixed: those layers loaded together into one JVM"), r.out());
        assertTrue(r.out().contains("each reading 8 rows of 32 KiB side by side, as the GEMVs read weights; 64 MiB off-heap"), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.matches("gemv f32 .*\\d+% mem .*")), r.out());
        assertEquals("", r.err(), "no progress bar when not on a terminal");
        byte[] head = Arrays.copyOf(Files.readAllBytes(png), 8);
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}, head);
        assertTrue(Files.size(png) > 10_000, "a chart, not an empty image: " + Files.size(png) + " bytes");
    }

    @Test
    void inProcessTimesEveryCaseInThisJvm() {
        CliRun r = run("bench", "--suite", "quick", "--no-numpy", "--in-process", "--repeat", "3", "--budget", "0.05",
                "--probe-mib", "64", "--rounds", "2");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("every case timed in this JVM"), r.out());
        assertTrue(r.out().contains("2 rounds (each case: the median of its rounds' medians)"), r.out());
        for (String c : new String[] {"gemm f32", "gemv f32", "gemv fp8-e4m3", "gemv gptq-int4-g128", "mlp bf16"}) {
            assertTrue(r.out().contains(c), c + " missing from\n" + r.out());
        }
        // In one JVM every case is among the others: there is no time alone to compare a mixed case with.
        assertTrue(r.out().contains("not run: 3 mixed cases"), r.out());
        assertTrue(!r.out().contains("mixed f32"), r.out());
    }

    @Test
    void casesPicksTheCasesItMatches() {
        CliRun r = run("bench", "--suite", "quick", "--no-numpy", "--in-process", "--repeat", "3", "--budget", "0.05",
                "--probe-mib", "64", "--cases", "^gemv (f32|bf16) ");
        assertEquals(0, r.code(), r.err());
        List<String> rows = r.out().lines().filter(l -> l.startsWith("gemv ") || l.startsWith("gemm ") || l.startsWith("mixed ")
                || l.startsWith("mlp ")).toList();
        assertEquals(2, rows.size(), r.out());
        assertTrue(rows.get(0).startsWith("gemv f32 ") && rows.get(1).startsWith("gemv bf16 "), r.out());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "--suite nope|unknown suite 'nope'; valid: quick, gemm, targets",
        "--repeat 0|--repeat must be at least 1",
        "--rounds 0|--rounds must be at least 1",
        "--budget -1|--budget must be a positive number of seconds",
        "--plot chart.svg|--plot writes a PNG",
        "--plot /no/such/dir/chart.png|does not exist",
        "--repeat many|Invalid value for option '--repeat'",
        "--cases nomatch|--cases nomatch matches none of the quick suite's cases",
        "--cases [|Invalid value for option '--cases'",
        "--threads 64 --probe-mib 1|--probe-mib 1: the read probe's array of 1048576 bytes holds less than one block of 8 rows",
    })
    void badOptionsAreOneLineUsageErrors(String args, String message) {
        CliRun r = run(("bench --no-numpy " + args).split(" "));
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().startsWith("tornado-nn: ") && r.err().contains(message), r.err());
    }

    @Test
    void aDeviceWithoutABackendIsAOneLineError() {
        CliRun r = run("bench", "--no-numpy", "--device", "gpu:0");
        assertEquals(1, r.code(), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains("no backend for gpu:0"), r.err());
    }
}

package dev.tornadonn.core.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tornadonn.core.TornadoNnException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@link SafeOutput}: what an output name may point at, and what is left behind. */
class SafeOutputTest {
    private static final byte[] NEW = "new contents".getBytes(StandardCharsets.UTF_8);
    private static final byte[] OLD = "old".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path dir;

    private static void write(Path p, Collection<Path> inputs) {
        SafeOutput.write(p, inputs, out -> out.write(NEW));
    }

    private static void write(Path p) {
        write(p, List.of());
    }

    private List<String> names() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static String refused(Path p, Collection<Path> inputs, String fragment) {
        TornadoNnException e = assertThrows(TornadoNnException.class, () -> write(p, inputs));
        String m = e.getMessage();
        assertTrue(m.contains(fragment), "expected '" + fragment + "': " + m);
        assertFalse(m.contains("\n"), m);
        return m;
    }

    @Test
    void aNewFileIsWrittenAndNoTemporaryFileIsLeft() throws IOException {
        Path y = dir.resolve("y.safetensors");
        write(y);
        assertArrayEquals(NEW, Files.readAllBytes(y));
        assertEquals(List.of("y.safetensors"), names());
        assertTrue(SafeOutput.inProgress().isEmpty());
    }

    @Test
    void aFailedWriteKeepsTheOldFileAndLeavesNoTemporaryFile() throws IOException {
        Path y = Files.write(dir.resolve("y.safetensors"), OLD);
        TornadoNnException e = assertThrows(TornadoNnException.class,
                () -> SafeOutput.write(y, List.of(), out -> {
                    out.write(NEW);
                    throw new IOException("disk full");
                }));
        assertTrue(e.getMessage().contains("disk full"), e.getMessage());
        assertArrayEquals(OLD, Files.readAllBytes(y));
        assertEquals(List.of("y.safetensors"), names());
    }

    /** Files.createTempFile made every output 0600, whatever the umask. */
    @Test
    void aNewFileGetsTheUmasksMode() throws IOException {
        Integer umask = umask();
        Assumptions.assumeTrue(umask != null, "no /proc/self/status Umask line here");
        Path y = dir.resolve("y.safetensors");
        write(y);
        assertEquals(Integer.toOctalString(0666 & ~umask), Integer.toOctalString(mode(y)));
    }

    @Test
    void aReplacedFileKeepsItsMode() throws IOException {
        Path y = Files.write(dir.resolve("y.safetensors"), OLD);
        Files.setPosixFilePermissions(y, PosixFilePermissions.fromString("rw-r-----"));
        write(y);
        assertArrayEquals(NEW, Files.readAllBytes(y));
        assertEquals(PosixFilePermissions.fromString("rw-r-----"), Files.getPosixFilePermissions(y));
    }

    /** The old writer renamed over the link, replacing it with a regular file. */
    @Test
    void aSymlinkIsWrittenThroughToItsTarget() throws IOException {
        Path sub = Files.createDirectory(dir.resolve("sub"));
        Path target = Files.write(sub.resolve("real.safetensors"), OLD);
        Path link = Files.createSymbolicLink(dir.resolve("y.safetensors"), Path.of("sub/real.safetensors"));
        Path link2 = Files.createSymbolicLink(dir.resolve("y2.safetensors"), link.getFileName());
        write(link2);
        assertTrue(Files.isSymbolicLink(link) && Files.isSymbolicLink(link2));
        assertArrayEquals(NEW, Files.readAllBytes(target));
        assertEquals(List.of("real.safetensors"), Files.list(sub).map(p -> p.getFileName().toString()).toList());
    }

    @Test
    void aDanglingSymlinkCreatesItsTarget() throws IOException {
        Path link = Files.createSymbolicLink(dir.resolve("y.safetensors"), Path.of("made.safetensors"));
        write(link);
        assertTrue(Files.isSymbolicLink(link));
        assertArrayEquals(NEW, Files.readAllBytes(dir.resolve("made.safetensors")));
    }

    /** The old writer replaced a FIFO (and, as root, a device node such as /dev/null) with a regular file. */
    @Test
    void aFifoIsRefusedAndLeftAsItIs() throws Exception {
        Path fifo = dir.resolve("y.safetensors");
        Assumptions.assumeTrue(new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor() == 0, "no mkfifo");
        refused(fifo, List.of(), "is a FIFO");
        assertTrue(Files.exists(fifo, LinkOption.NOFOLLOW_LINKS) && !Files.isRegularFile(fifo, LinkOption.NOFOLLOW_LINKS));
        assertEquals(List.of("y.safetensors"), names());
    }

    @Test
    void aDeviceIsRefusedEvenThroughASymlink() throws IOException {
        Path devNull = Path.of("/dev/null");
        Assumptions.assumeTrue(Files.exists(devNull) && !Files.isRegularFile(devNull));
        refused(devNull, List.of(), "is a character device");
        Path link = Files.createSymbolicLink(dir.resolve("y.safetensors"), devNull);
        refused(link, List.of(), "is a character device");
        assertFalse(Files.isRegularFile(devNull));
    }

    @Test
    void aDirectoryIsRefused() throws IOException {
        Path d = Files.createDirectory(dir.resolve("out"));
        refused(d, List.of(), "is a directory");
        assertTrue(Files.isDirectory(d));
        refused(dir.resolve("missing/y.safetensors"), List.of(), "no such directory");
    }

    /** --output equal to --weights overwrote the checkpoint and exited 0. */
    @ParameterizedTest
    @ValueSource(strings = {"same name", "other spelling", "symlink", "hard link", "inside a directory input"})
    void anOutputThatIsAnInputIsRefused(String how) throws IOException {
        Path weights = Files.write(dir.resolve("w.safetensors"), OLD);
        Path x = Files.write(dir.resolve("x.safetensors"), OLD);
        List<Path> inputs = List.of(weights, x);
        Path output = switch (how) {
            case "same name" -> weights;
            case "other spelling" -> dir.resolve(".").resolve("sub/..").resolve("x.safetensors");
            case "symlink" -> Files.createSymbolicLink(dir.resolve("y.safetensors"), weights);
            case "hard link" -> Files.createLink(dir.resolve("y.safetensors"), weights);
            default -> {
                Path ckpt = Files.createDirectories(dir.resolve("ckpt/shards"));
                Path shard = Files.write(ckpt.resolve("model-00001.safetensors"), OLD);
                inputs = List.of(dir.resolve("ckpt"), x);
                yield shard;
            }
        };
        if (how.equals("other spelling")) {
            Files.createDirectory(dir.resolve("sub"));
        }
        refused(output, inputs, "is the same file as the input");
        for (Path p : List.of(weights, x)) {
            assertArrayEquals(OLD, Files.readAllBytes(p));
        }
        write(dir.resolve("elsewhere.safetensors"), inputs); // an unrelated output still works
    }

    @ParameterizedTest
    @ValueSource(strings = {"TERM", "INT"})
    void theTemporaryFileIsRemovedWhenTheJvmIsSignalled(String signal) throws Exception {
        Path y = dir.resolve("y.safetensors");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                SafeOutputChild.class.getName(), y.toString()).redirectErrorStream(true).start();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            StringBuilder seen = new StringBuilder();
            while ((line = r.readLine()) != null && !line.equals("writing")) {
                seen.append(line).append('\n');
            }
            assertEquals("writing", line, "the child did not start writing: " + seen);
            List<String> during = names();
            assertEquals(1, during.size(), "one temporary file while writing: " + during);
            assertTrue(during.get(0).endsWith(".tmp"), during.toString());
            assertEquals(0, new ProcessBuilder("kill", "-" + signal, Long.toString(child.pid())).inheritIO().start().waitFor());
            assertTrue(child.waitFor(30, TimeUnit.SECONDS), "the child did not end on SIG" + signal);
        } finally {
            child.destroyForcibly();
        }
        assertEquals(List.of(), names(), "SIG" + signal + " left files behind");
    }

    private static int mode(Path p) throws IOException {
        int m = 0;
        for (PosixFilePermission perm : Files.getPosixFilePermissions(p)) {
            m |= 1 << (8 - perm.ordinal());
        }
        return m;
    }

    private static Integer umask() throws IOException {
        Path status = Path.of("/proc/self/status");
        if (!Files.isReadable(status)) {
            return null;
        }
        return Files.readAllLines(status).stream().filter(l -> l.startsWith("Umask:"))
                .map(l -> Integer.parseInt(l.substring(6).strip(), 8)).findFirst().orElse(null);
    }

}

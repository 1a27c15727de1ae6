package dev.tornadonn.cli.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A per-case child JVM ends with bench's JVM, however that ends (SIGINT, SIGTERM, SIGKILL). */
class ParentWatchTest {

    @Test
    void aChildJvmEndsWhenItsParentIsKilled() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        // The parent: a shell that starts the child, prints its pid, then becomes a sleep (same pid).
        Process parent = new ProcessBuilder("sh", "-c", "\"$0\" -cp \"$1\" " + ParentWatchChild.class.getName()
                + " & echo $!; exec sleep 60", java, System.getProperty("java.class.path")).start();
        Optional<ProcessHandle> child = Optional.empty();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(parent.getInputStream(), StandardCharsets.UTF_8))) {
            long childPid = Long.parseLong(r.readLine().strip());
            child = ProcessHandle.of(childPid);
            assertTrue(child.isPresent(), "the child JVM started");
            assertEquals("watching", r.readLine(), "the child JVM reports that it watches its parent");
            assertEquals(parent.pid(), child.get().parent().map(ProcessHandle::pid).orElse(-1L));
            parent.destroyForcibly(); // SIGKILL: no hook of the parent's can run
            assertTrue(parent.waitFor(10, TimeUnit.SECONDS));
            assertTrue(child.get().onExit().completeOnTimeout(null, 10, TimeUnit.SECONDS).get() != null || !child.get().isAlive(),
                    "the child JVM outlived its parent");
            assertFalse(child.get().isAlive(), "the child JVM outlived its parent");
        } finally {
            parent.destroyForcibly();
            child.ifPresent(ProcessHandle::destroyForcibly);
        }
    }
}

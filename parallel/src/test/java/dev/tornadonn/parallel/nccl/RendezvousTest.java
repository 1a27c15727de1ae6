package dev.tornadonn.parallel.nccl;

import dev.tornadonn.core.ConfigException;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@Timeout(30)
class RendezvousTest {
    private static final Duration SHORT = Duration.ofSeconds(5);

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    static byte[] randomId() {
        byte[] id = new byte[Rendezvous.ID_BYTES];
        new Random().nextBytes(id);
        return id;
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4})
    void everyRankGetsRankZerosId(int world) throws Exception {
        int port = freePort();
        byte[] id = randomId();
        AtomicInteger made = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(world);
        try {
            List<Future<byte[]>> got = new ArrayList<>();
            for (int r = world - 1; r >= 0; r--) { // clients first: they must retry until rank 0 listens
                RendezvousConfig c = new RendezvousConfig(r, world, "127.0.0.1", port, SHORT);
                got.add(pool.submit(() -> Rendezvous.exchange(c, () -> {
                    made.incrementAndGet();
                    return id;
                })));
                Thread.sleep(50);
            }
            for (Future<byte[]> f : got) {
                assertArrayEquals(id, f.get(10, TimeUnit.SECONDS));
            }
            assertEquals(1, made.get(), "only rank 0 makes the id");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void clientTimesOutNamingTheEndpoint() throws Exception {
        int port = freePort();
        long start = System.nanoTime();
        RendezvousException e = assertThrows(RendezvousException.class, () -> Rendezvous.exchange(
                new RendezvousConfig(1, 2, "127.0.0.1", port, Duration.ofMillis(500)), RendezvousTest::randomId));
        assertTrue(e.getMessage().contains("127.0.0.1:" + port), e.getMessage());
        assertTrue(System.nanoTime() - start < 5_000_000_000L);
    }

    @Test
    void rankZeroTimesOutNamingTheMissingRanks() throws Exception {
        int port = freePort();
        RendezvousException e = assertThrows(RendezvousException.class, () -> Rendezvous.exchange(
                new RendezvousConfig(0, 3, "127.0.0.1", port, Duration.ofMillis(500)), RendezvousTest::randomId));
        assertTrue(e.getMessage().contains("[1, 2]") && e.getMessage().contains("127.0.0.1:" + port), e.getMessage());
    }

    @Test
    void shortReadIsReported() throws Exception {
        try (ServerSocket fake = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread server = Thread.ofVirtual().start(() -> {
                try (Socket s = fake.accept(); OutputStream out = s.getOutputStream()) {
                    s.getInputStream().readNBytes(12);
                    out.write(new byte[] {0x54, 0x4E, 0x4E, 0x31, 0, 0, 0, (byte) 128, 1, 2, 3}); // 3 of 128 id bytes
                } catch (IOException ignored) {
                    // the test's assertion reports what matters
                }
            });
            RendezvousException e = assertThrows(RendezvousException.class, () -> Rendezvous.exchange(
                    new RendezvousConfig(1, 2, "127.0.0.1", fake.getLocalPort(), SHORT), RendezvousTest::randomId));
            assertTrue(e.getMessage().contains("short read") && e.getMessage().contains("got 3 of 128"), e.getMessage());
            server.join();
        }
    }

    @Test
    void mismatchedWorldSizeIsRefused() throws Exception {
        int port = freePort();
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<byte[]> zero = pool.submit(() -> Rendezvous.exchange(
                    new RendezvousConfig(0, 2, "127.0.0.1", port, SHORT), RendezvousTest::randomId));
            RendezvousException client = assertThrows(RendezvousException.class, () -> Rendezvous.exchange(
                    new RendezvousConfig(1, 3, "127.0.0.1", port, SHORT), RendezvousTest::randomId));
            assertTrue(client.getMessage().contains("short read"), client.getMessage());
            Exception server = assertThrows(Exception.class, () -> zero.get(10, TimeUnit.SECONDS));
            assertTrue(server.getCause().getMessage().contains("WORLD_SIZE=3"), server.getCause().getMessage());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void idFactoryMustMake128Bytes() {
        assertThrows(ConfigException.class, () -> Rendezvous.exchange(
                new RendezvousConfig(0, 1, "127.0.0.1", 1, SHORT), () -> new byte[16]));
    }

    @Test
    void twoJvmsAgreeOnTheId() throws Exception {
        int port = freePort();
        Path out = Files.createTempFile("rendezvous", ".txt");
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), RendezvousChild.class.getName(), out.toString());
        pb.environment().putAll(Map.of("RANK", "1", "WORLD_SIZE", "2", "MASTER_ADDR", "127.0.0.1",
                "MASTER_PORT", Integer.toString(port)));
        pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        Process child = pb.start();
        try {
            byte[] id = randomId();
            byte[] mine = Rendezvous.exchange(RendezvousConfig.fromEnv(Map.of("RANK", "0", "WORLD_SIZE", "2",
                    "MASTER_ADDR", "127.0.0.1", "MASTER_PORT", Integer.toString(port)), Duration.ofSeconds(20)), () -> id);
            assertTrue(child.waitFor(20, TimeUnit.SECONDS), "the second JVM did not finish");
            assertEquals(0, child.exitValue());
            assertArrayEquals(mine, HexFormat.of().parseHex(Files.readString(out).strip()));
        } finally {
            child.destroyForcibly();
            Files.deleteIfExists(out);
        }
    }
}

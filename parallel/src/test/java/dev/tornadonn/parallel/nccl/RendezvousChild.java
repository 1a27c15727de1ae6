package dev.tornadonn.parallel.nccl;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;

/** The second JVM of {@link RendezvousTest}: joins from the environment and writes the id it got as hex. */
public final class RendezvousChild {
    private RendezvousChild() {}

    public static void main(String[] args) throws Exception {
        byte[] id = Rendezvous.exchange(RendezvousConfig.fromEnv(System.getenv(), Duration.ofSeconds(20)),
                () -> { throw new IllegalStateException("only rank 0 makes the id"); });
        Files.writeString(Path.of(args[0]), HexFormat.of().formatHex(id));
    }
}

package dev.tornadonn.core.io;

import java.nio.file.Path;
import java.util.List;

/**
 * Run in a JVM of its own by {@link SafeOutputTest}: starts writing {@code args[0]}, says so on
 * stdout once bytes are in its temporary file, then stalls until it is signalled.
 */
public final class SafeOutputChild {
    private SafeOutputChild() {}

    public static void main(String[] args) {
        SafeOutput.write(Path.of(args[0]), List.of(), out -> {
            out.write(new byte[1 << 20]);
            out.flush();
            System.out.println("writing");
            System.out.flush();
            try {
                Thread.sleep(120_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }
}

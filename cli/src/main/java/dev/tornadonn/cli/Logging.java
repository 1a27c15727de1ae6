package dev.tornadonn.cli;

import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The command line's log: the library's {@link System.Logger} records on stderr, one line each;
 * warnings always, the kernels chosen and loading progress with {@code --verbose}.
 */
final class Logging {
    private Logging() {}

    static void configure(boolean verbose) {
        if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
            System.setProperty("java.util.logging.SimpleFormatter.format", "%4$s: %5$s%6$s%n");
        }
        Logger root = Logger.getLogger("");
        Level level = verbose ? Level.INFO : Level.WARNING;
        root.setLevel(level);
        for (var h : root.getHandlers()) {
            h.setLevel(level);
        }
    }
}

package dev.tornadonn.cli.bench;

import java.io.PrintWriter;

/**
 * A one-line progress bar on stderr, {@code [#####     ] 5/10 gemv bf16}, redrawn in place with
 * a carriage return; silent when off, so logs and pipes stay clean.
 */
final class Progress {
    private static final int WIDTH = 20;

    private final PrintWriter err;
    private final boolean on;
    private final int total;
    private int done;
    private int lastLength;

    Progress(PrintWriter err, boolean on, int total) {
        this.err = err;
        this.on = on;
        this.total = Math.max(total, 1);
    }

    /** Whether a person is watching: stdin and stdout a terminal (Console.isTerminal, JDK 22+). */
    static boolean interactive() {
        java.io.Console c = System.console();
        return c != null && c.isTerminal();
    }

    /** Shows that {@code what} has started, with the steps done so far. */
    void start(String what) {
        if (!on) {
            return;
        }
        int filled = WIDTH * done / total;
        String line = "[" + "#".repeat(filled) + " ".repeat(WIDTH - filled) + "] " + done + "/" + total + " " + what;
        err.print("\r" + line + " ".repeat(Math.max(0, lastLength - line.length())));
        err.flush();
        lastLength = line.length();
    }

    void step() {
        done++;
    }

    /** Wipes the bar, so the table that follows starts on a clean line. */
    void finish() {
        if (on && lastLength > 0) {
            err.print("\r" + " ".repeat(lastLength) + "\r");
            err.flush();
        }
    }
}

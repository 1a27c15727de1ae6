package dev.tornadonn.cli.bench;

import java.util.Optional;

/**
 * Ends a child JVM when the process that started it is gone, whatever ended that one (SIGKILL
 * included, where no shutdown hook runs): a bench case left running would keep a core busy and
 * skew whatever is timed next. {@link ProcessHandle#isAlive} compares start times, so a reused
 * pid does not keep the child alive.
 */
final class ParentWatch {
    static final String PROPERTY = "tornadonn.bench.parent";
    private static final long POLL_MS = 250;

    private ParentWatch() {}

    /** Watches the pid in {@link #PROPERTY} if set, else this process's parent. */
    static void start() {
        String pid = System.getProperty(PROPERTY);
        Optional<ProcessHandle> parent;
        try {
            parent = pid != null ? ProcessHandle.of(Long.parseLong(pid)) : ProcessHandle.current().parent();
        } catch (NumberFormatException e) {
            parent = ProcessHandle.current().parent();
        }
        start(parent);
    }

    /** Halts this JVM (exit status 3) once {@code parent} has ended; at once if it is already gone. */
    static void start(Optional<ProcessHandle> parent) {
        if (parent.isEmpty() || !parent.get().isAlive()) {
            Runtime.getRuntime().halt(3);
        }
        ProcessHandle p = parent.get();
        Thread t = new Thread(() -> {
            while (p.isAlive()) {
                try {
                    Thread.sleep(POLL_MS);
                } catch (InterruptedException e) {
                    return;
                }
            }
            System.err.println("tornado-nn: bench case: the parent process " + p.pid() + " has ended; exiting");
            Runtime.getRuntime().halt(3);
        }, "tornado-nn-parent-watch");
        t.setDaemon(true);
        t.start();
    }
}

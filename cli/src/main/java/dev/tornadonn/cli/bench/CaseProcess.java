package dev.tornadonn.cli.bench;

import dev.tornadonn.core.DeviceRef;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Times one case in a JVM of its own, as JMH forks do. In a JVM that has already run other Vector
 * API kernels, C2 sometimes compiles the next kernel with its vectors boxed (2-5× slower,
 * allocating GB/s): the JDK's shared Vector API methods carry the type profiles and the
 * class-check trap history of every kernel before, and past a few traps C2 stops trusting them.
 * A process per case times each kernel as a deployment that serves one weight format compiles it.
 */
final class CaseProcess {
    private static final String RESULT = "case-result";
    private static final String ERROR = "case-error";
    /** Children still running, destroyed by a shutdown hook when this JVM is told to end (SIGINT, SIGTERM). */
    private static final java.util.Set<Process> RUNNING = java.util.concurrent.ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(CaseProcess::destroyRunning, "tornado-nn-bench-children"));
    }

    private CaseProcess() {}

    /** A case's weight bytes and timing, from a child JVM started with this JVM's options. */
    static Measured time(BenchCase c, DeviceRef dev, int rep, double budgetS) {
        Path errors;
        try {
            errors = Files.createTempFile("tornado-nn-bench-", ".err");
        } catch (IOException e) {
            throw new IllegalStateException("bench case " + c.label() + ": could not run a JVM for it: " + e.getMessage(), e);
        }
        try {
            Process p = new ProcessBuilder(command(c, dev, rep, budgetS)).redirectError(errors.toFile()).start();
            RUNNING.add(p);
            String out;
            int code;
            try {
                p.getOutputStream().close();
                out = new String(p.getInputStream().readAllBytes());
                code = p.waitFor();
            } finally {
                if (p.isAlive()) {
                    p.destroyForcibly(); // interrupted or failed here: the child must not outlive its case
                }
                RUNNING.remove(p);
            }
            String line = out.lines().filter(l -> l.startsWith(RESULT + " ")).reduce((a, b) -> b).orElse(null);
            if (code != 0 || line == null) {
                // The child's own error line, or else (a crash, a kill) the end of what it printed.
                String why = out.lines().filter(l -> l.startsWith(ERROR + " ")).map(l -> l.substring(ERROR.length() + 1))
                        .findFirst().orElseGet(() -> tail(errors));
                throw new IllegalStateException("bench case " + c.label() + " " + c.shape() + ": its JVM exited with "
                        + code + (why.isBlank() ? "" : ": " + why));
            }
            return parse(line);
        } catch (IOException e) {
            throw new IllegalStateException("bench case " + c.label() + ": could not run a JVM for it: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("bench case " + c.label() + ": interrupted", e);
        } finally {
            try {
                Files.deleteIfExists(errors);
            } catch (IOException ignored) {
                // a temporary file left behind is harmless
            }
        }
    }

    /** This JVM's java, options (less a debugger or agent) and class path, running {@link #main}. */
    private static List<String> command(BenchCase c, DeviceRef dev, int rep, double budgetS) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!arg.startsWith("-agentlib:jdwp") && !arg.startsWith("-javaagent:") && !arg.startsWith("-D" + ParentWatch.PROPERTY + "=")) {
                cmd.add(arg);
            }
        }
        cmd.add("-D" + ParentWatch.PROPERTY + "=" + ProcessHandle.current().pid());
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), CaseProcess.class.getName(),
                c.kind(), c.format().name(), Integer.toString(c.m()), Integer.toString(c.n()), Integer.toString(c.k()),
                Integer.toString(c.ffn()), dev.toString(), Integer.toString(rep), Double.toString(budgetS)));
        return cmd;
    }

    /** Builds and times one case in this JVM, drawing its weights from {@code data}. */
    static Measured timeHere(BenchCase c, DeviceRef dev, WeightData data, int rep, double budgetS) {
        Prepared p = c.prepare(dev, data);
        return new Measured(p.weightBytes(), Timing.measure(p.op(), rep, budgetS));
    }

    /** A case's weight bytes streamed per call and its timing. */
    record Measured(long weightBytes, Timing timing) {}

    /** The child: {@code kind format m n k ffn device repeat budget}; prints one result or error line. */
    public static void main(String[] args) {
        ParentWatch.start(); // ends this JVM with the bench that started it, even one killed outright
        try {
            BenchCase c = new BenchCase(args[0], WeightFormat.valueOf(args[1]), Integer.parseInt(args[2]),
                    Integer.parseInt(args[3]), Integer.parseInt(args[4]), Integer.parseInt(args[5]));
            Measured m = timeHere(c, DeviceRef.parse(args[6]), new WeightData(), Integer.parseInt(args[7]),
                    Double.parseDouble(args[8]));
            Timing t = m.timing();
            System.out.println(String.format(Locale.ROOT, "%s %d %s %s %s %d %d", RESULT, m.weightBytes(),
                    Double.toString(t.median()), Double.toString(t.min()), Double.toString(t.max()), t.runs(), t.bytesPerRun()));
        } catch (RuntimeException | OutOfMemoryError e) {
            System.out.println(ERROR + " " + String.valueOf(e).replaceAll("\\s*\\R\\s*", " "));
            System.exit(1);
        }
    }

    /** The shutdown hook: asks each running child to end, then kills those still there after a second. */
    private static void destroyRunning() {
        List<Process> children = List.copyOf(RUNNING);
        children.forEach(Process::destroy);
        long deadline = System.nanoTime() + 1_000_000_000L;
        for (Process p : children) {
            try {
                p.waitFor(Math.max(0, deadline - System.nanoTime()), java.util.concurrent.TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                break;
            }
        }
        children.forEach(Process::destroyForcibly);
    }

    private static String tail(Path file) {
        try {
            List<String> lines = Files.readAllLines(file);
            return String.join(" | ", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
        } catch (IOException e) {
            return "";
        }
    }

    private static Measured parse(String line) {
        String[] f = line.split(" ");
        return new Measured(Long.parseLong(f[1]), new Timing(Double.parseDouble(f[2]), Double.parseDouble(f[3]),
                Double.parseDouble(f[4]), Integer.parseInt(f[5]), Long.parseLong(f[6])));
    }
}

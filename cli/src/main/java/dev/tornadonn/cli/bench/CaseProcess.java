package dev.tornadonn.cli.bench;

import dev.tornadonn.core.DeviceRef;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

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

    /**
     * The weight bytes and timing of each case of {@code group}, from a child JVM started with this
     * JVM's options: one case, or the mixed cases of one shape, loaded together ({@link MixedRun}).
     */
    static List<Measured> time(List<BenchCase> group, DeviceRef dev, int rep, double budgetS) {
        String what = describe(group);
        Path errors;
        try {
            errors = Files.createTempFile("tornado-nn-bench-", ".err");
        } catch (IOException e) {
            throw new IllegalStateException("bench " + what + ": could not run a JVM for it: " + e.getMessage(), e);
        }
        try {
            Process p = new ProcessBuilder(command(group, dev, rep, budgetS)).redirectError(errors.toFile()).start();
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
            List<String> lines = out.lines().filter(l -> l.startsWith(RESULT + " ")).toList();
            if (code != 0 || lines.size() != group.size()) {
                // The child's own error line, or else (a crash, a kill) the end of what it printed.
                String why = out.lines().filter(l -> l.startsWith(ERROR + " ")).map(l -> l.substring(ERROR.length() + 1))
                        .findFirst().orElseGet(() -> tail(errors));
                throw new IllegalStateException("bench " + what + ": its JVM exited with " + code
                        + (code == 0 ? " after " + lines.size() + " of " + group.size() + " results" : "")
                        + (why.isBlank() ? "" : ": " + why));
            }
            return lines.stream().map(CaseProcess::parse).toList();
        } catch (IOException e) {
            throw new IllegalStateException("bench " + what + ": could not run a JVM for it: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("bench " + what + ": interrupted", e);
        } finally {
            try {
                Files.deleteIfExists(errors);
            } catch (IOException ignored) {
                // a temporary file left behind is harmless
            }
        }
    }

    /** "case gemv f32 M=1 N=1024 K=512", or "mixed cases f32, bf16 M=1 ..." for a group. */
    private static String describe(List<BenchCase> group) {
        BenchCase first = group.getFirst();
        if (group.size() == 1) {
            return "case " + first.label() + " " + first.shape();
        }
        return first.kind() + " cases " + group.stream().map(c -> c.format().label()).collect(Collectors.joining(", "))
                + " " + first.shape();
    }

    /** This JVM's java, options (less a debugger or agent) and class path, running {@link #main}. */
    private static List<String> command(List<BenchCase> group, DeviceRef dev, int rep, double budgetS) {
        BenchCase c = group.getFirst();
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!arg.startsWith("-agentlib:jdwp") && !arg.startsWith("-javaagent:") && !arg.startsWith("-D" + ParentWatch.PROPERTY + "=")) {
                cmd.add(arg);
            }
        }
        cmd.add("-D" + ParentWatch.PROPERTY + "=" + ProcessHandle.current().pid());
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), CaseProcess.class.getName(),
                c.kind(), group.stream().map(g -> g.format().name()).collect(Collectors.joining(",")),
                Integer.toString(c.m()), Integer.toString(c.n()), Integer.toString(c.k()),
                Integer.toString(c.ffn()), dev.toString(), Integer.toString(rep), Double.toString(budgetS)));
        return cmd;
    }

    /**
     * Builds and times {@code group} in this JVM, drawing its weights from {@code data}: one case,
     * or several cases loaded together and timed by {@link MixedRun}.
     */
    static List<Measured> timeHere(List<BenchCase> group, DeviceRef dev, WeightData data, int rep, double budgetS) {
        if (group.size() == 1) {
            Prepared p = group.getFirst().prepare(dev, data);
            return List.of(new Measured(p.weightBytes(), Timing.measure(p.op(), rep, budgetS)));
        }
        List<Prepared> prepared = new ArrayList<>();
        for (BenchCase c : group) {
            prepared.add(c.prepare(dev, data));
            System.gc(); // the checkpoint tensors it was built from are off-heap garbage now: free them before the next
        }
        data.clear();
        List<Timing> timings = MixedRun.measure(prepared.stream().map(Prepared::op).toList(), rep, budgetS);
        List<Measured> measured = new ArrayList<>();
        for (int i = 0; i < group.size(); i++) {
            measured.add(new Measured(prepared.get(i).weightBytes(), timings.get(i)));
        }
        return measured;
    }

    /** A case's weight bytes streamed per call and its timing. */
    record Measured(long weightBytes, Timing timing) {}

    /**
     * The child: {@code kind formats m n k ffn device repeat budget}, formats comma-separated (more
     * than one: a group loaded together); prints a result line per format, in order, or an error line.
     */
    public static void main(String[] args) {
        ParentWatch.start(); // ends this JVM with the bench that started it, even one killed outright
        try {
            List<BenchCase> group = new ArrayList<>();
            for (String format : args[1].split(",")) {
                group.add(new BenchCase(args[0], WeightFormat.valueOf(format), Integer.parseInt(args[2]),
                        Integer.parseInt(args[3]), Integer.parseInt(args[4]), Integer.parseInt(args[5])));
            }
            for (Measured m : timeHere(group, DeviceRef.parse(args[6]), new WeightData(), Integer.parseInt(args[7]),
                    Double.parseDouble(args[8]))) {
                Timing t = m.timing();
                System.out.println(String.format(Locale.ROOT, "%s %d %s %s %s %d %d", RESULT, m.weightBytes(),
                        Double.toString(t.median()), Double.toString(t.min()), Double.toString(t.max()), t.runs(),
                        t.bytesPerRun()));
            }
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

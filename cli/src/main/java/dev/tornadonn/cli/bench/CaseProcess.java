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

    private CaseProcess() {}

    /** A case's weight bytes and timing, from a child JVM started with this JVM's options. */
    static Measured time(BenchCase c, DeviceRef dev, int rep, double budgetS) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!arg.startsWith("-agentlib:jdwp") && !arg.startsWith("-javaagent:")) {
                cmd.add(arg);
            }
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), CaseProcess.class.getName(),
                c.kind(), c.format().name(), Integer.toString(c.m()), Integer.toString(c.n()), Integer.toString(c.k()),
                Integer.toString(c.ffn()), dev.toString(), Integer.toString(rep), Double.toString(budgetS)));
        Path errors = null;
        try {
            errors = Files.createTempFile("tornado-nn-bench-", ".err");
            Process p = new ProcessBuilder(cmd).redirectError(errors.toFile()).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes());
            int code = p.waitFor();
            String line = out.lines().filter(l -> l.startsWith(RESULT + " ")).reduce((a, b) -> b).orElse(null);
            if (code != 0 || line == null) {
                List<String> err = Files.readAllLines(errors);
                String tail = String.join(" | ", err.subList(Math.max(0, err.size() - 5), err.size()));
                throw new IllegalStateException("bench case " + c.label() + " " + c.shape() + ": its JVM exited with "
                        + code + (tail.isBlank() ? "" : ": " + tail));
            }
            return parse(line);
        } catch (IOException e) {
            throw new IllegalStateException("bench case " + c.label() + ": could not run a JVM for it: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("bench case " + c.label() + ": interrupted", e);
        } finally {
            if (errors != null) {
                try {
                    Files.deleteIfExists(errors);
                } catch (IOException ignored) {
                    // a temporary file left behind is harmless
                }
            }
        }
    }

    /** Builds and times one case in this JVM, drawing its weights from {@code data}. */
    static Measured timeHere(BenchCase c, DeviceRef dev, WeightData data, int rep, double budgetS) {
        Prepared p = c.prepare(dev, data);
        return new Measured(p.weightBytes(), Timing.measure(p.op(), rep, budgetS));
    }

    /** A case's weight bytes streamed per call and its timing. */
    record Measured(long weightBytes, Timing timing) {}

    /** The child: {@code kind format m n k ffn device repeat budget}; prints one result line. */
    public static void main(String[] args) {
        BenchCase c = new BenchCase(args[0], WeightFormat.valueOf(args[1]), Integer.parseInt(args[2]),
                Integer.parseInt(args[3]), Integer.parseInt(args[4]), Integer.parseInt(args[5]));
        Measured m = timeHere(c, DeviceRef.parse(args[6]), new WeightData(), Integer.parseInt(args[7]), Double.parseDouble(args[8]));
        Timing t = m.timing();
        System.out.println(String.format(Locale.ROOT, "%s %d %s %s %s %d %d", RESULT, m.weightBytes(),
                Double.toString(t.median()), Double.toString(t.min()), Double.toString(t.max()), t.runs(), t.bytesPerRun()));
    }

    private static Measured parse(String line) {
        String[] f = line.split(" ");
        return new Measured(Long.parseLong(f[1]), new Timing(Double.parseDouble(f[2]), Double.parseDouble(f[3]),
                Double.parseDouble(f[4]), Integer.parseInt(f[5]), Long.parseLong(f[6])));
    }
}

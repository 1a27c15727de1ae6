package dev.tornadonn.cli.bench;

import dev.tornadonn.core.ConfigException;
import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.backend.Backend;
import dev.tornadonn.core.backend.Backends;
import dev.tornadonn.core.weights.WeightKind;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.IntFunction;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * Times layers on a device against this machine's roofline (measured here) and, where python3 has
 * numpy, against numpy's f32 {@code x @ w.T} on the same shapes in the same run.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Time layers: GFLOP/s, GB/s, fraction of the measured roofline, and numpy's f32 time on the same shapes.")
public final class BenchCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--device", defaultValue = "cpu", description = "Device: cpu, cpu:N or gpu:N (default: ${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--suite", defaultValue = "quick",
            description = "quick (small shapes, seconds), gemm (f32/bf16/f16 GEMMs) or targets (the performance targets, minutes, ~4 GiB); default: ${DEFAULT-VALUE}.")
    String suite;

    @Option(names = "--repeat", description = "Timed runs per case after warm-up; the median is reported (default: 5 for quick, 10 otherwise).")
    Integer repeat;

    @Option(names = "--rounds", description = "Time the whole case list this many times, one round after another, and report each case's median over"
            + " the rounds and each target's ratio per round (default: 3 for targets, 1 otherwise).")
    Integer rounds;

    @Option(names = "--budget", paramLabel = "SECONDS", description = "Stop timing a case after this many seconds, with at least 3 runs (default: 0.3 for quick, 5 otherwise).")
    Double budget;

    @Option(names = "--no-numpy", description = "Skip the numpy comparison.")
    boolean noNumpy;

    @Option(names = "--plot", paramLabel = "FILE.png", description = "Write a roofline chart of the results to this PNG.")
    Path plot;

    @Option(names = "--progress", description = "Show the progress bar even when not on a terminal.")
    boolean progress;

    @Option(names = "--fail-on-miss", description = "Exit 1 when a measured target is missed (default: exit 0 and report).")
    boolean failOnMiss;

    @Option(names = "--in-process",
            description = "Time every case in this JVM (default on cpu devices: each case in a JVM of its own, as JMH forks; the mixed cases are then not run).")
    boolean inProcess;

    @Option(names = "--threads", description = "Threads for the machine probes (default: as many as the kernels use, -D" + KERNEL_THREADS
            + " or every core the JVM sees).")
    Integer threads;

    @Option(names = "--probe-mib", defaultValue = "1024",
            description = "Size of the bandwidth probe's array in MiB, far larger than the last-level cache (default: ${DEFAULT-VALUE}, the targets' f32 GEMV weight).")
    int probeMib;

    @Option(names = "--cases", paramLabel = "REGEX",
            description = "Only the cases whose label and shape as printed (e.g. 'gemm fp8-e4m3 M=512 N=4096 K=4096') contain a match"
                    + " of this regular expression; targets without their cases are skipped.")
    java.util.regex.Pattern only;

    /** The jvm-kernels property that sets their thread count (Parallel.PROPERTY there). */
    static final String KERNEL_THREADS = "tornadonn.jvm.threads";

    @Override
    public Integer call() throws IOException {
        Suite s;
        try {
            s = Suite.parse(suite);
        } catch (ConfigException | IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        int rep = repeat != null ? repeat : s.repeat();
        double budgetS = budget != null ? budget : s.budgetS();
        int nThreads = threads != null ? threads : kernelThreads();
        int nRounds = rounds != null ? rounds : s.rounds();
        checkOptions(rep, budgetS, nThreads, nRounds);
        List<BenchCase> chosen = s.cases().stream().filter(c -> only == null || only.matcher(c.label() + " " + c.shape()).find())
                .toList();
        if (chosen.isEmpty()) {
            throw new ParameterException(spec.commandLine(), "--cases " + only + " matches none of the " + s.label() + " suite's cases");
        }
        ReadProbe probe;
        try {
            probe = ReadProbe.of(nThreads, (long) probeMib << 20);
        } catch (ConfigException e) {
            throw new ParameterException(spec.commandLine(), "--probe-mib " + probeMib + ": " + e.getMessage());
        }
        DeviceRef dev = DeviceRef.parse(device);
        Backend deviceBackend = Backends.forDevice(dev);
        String backend = deviceBackend.name();
        boolean fork = dev.isCpu() && !inProcess;

        PrintWriter out = spec.commandLine().getOut();
        Set<WeightKind> kinds = deviceBackend.weightKinds(dev);
        List<BenchCase> runnable = chosen.stream().filter(c -> kinds.contains(c.format().weightKind())).toList();
        List<BenchCase> cases = runnable.stream().filter(c -> fork || !c.isMixed()).toList();
        List<List<Integer>> groups = groups(cases);
        List<int[]> numpyShapes = noNumpy ? List.of() : numpyShapes(cases);
        Progress bar = new Progress(spec.commandLine().getErr(), progress || Progress.interactive(),
                nRounds * (2 + cases.size() + numpyShapes.size()));

        out.printf("bench on %s (%s), suite %s: median of up to %d runs after warm-up, %.3g s budget per case%s%n",
                dev, backend, s.label(), rep, budgetS,
                nRounds == 1 ? "" : ", " + nRounds + " rounds (each case: the median of its rounds' medians)");
        if (runnable.size() < chosen.size()) {
            String missing = chosen.stream().map(c -> c.format().weightKind()).filter(k -> !kinds.contains(k)).distinct()
                    .sorted().map(WeightKind::toString).collect(Collectors.joining(" and "));
            out.printf("not run: %d %s cases (%s has no kernels for them)%n", chosen.size() - runnable.size(), missing, backend);
        }
        if (cases.size() < runnable.size()) {
            out.printf("not run: %d mixed cases (they are compared with each format alone in a JVM of its own: cpu devices,"
                    + " without --in-process)%n", runnable.size() - cases.size());
        }
        if (!dev.isCpu()) {
            out.println("the roofline below is this host's CPU, probed here; a gpu device's own peak is not probed");
        }
        out.flush();

        WeightData data = new WeightData();
        List<Double> peaks = new ArrayList<>();
        List<Double> bandwidths = new ArrayList<>();
        List<List<Timing>> caseRounds = new ArrayList<>();
        cases.forEach(c -> caseRounds.add(new ArrayList<>()));
        long[] weightBytes = new long[cases.size()];
        List<Numpy.Result> numpyRounds = new ArrayList<>();
        for (int round = 1; round <= nRounds; round++) {
            String of = nRounds == 1 ? "" : " (round " + round + " of " + nRounds + ")";
            bar.start("probing peak FMA rate" + of);
            peaks.add(MachineProbe.peakFmaGflops(nThreads));
            bar.step();
            bar.start("probing memory bandwidth" + of);
            bandwidths.add(probe.measureGBs());
            bar.step();
            for (List<Integer> group : groups) {
                List<BenchCase> g = group.stream().map(cases::get).toList();
                bar.start((g.size() == 1 ? g.getFirst().label() : g.getFirst().kind() + " " + g.size() + " formats")
                        + " " + g.getFirst().shape() + of);
                List<CaseProcess.Measured> measured;
                if (fork) {
                    measured = CaseProcess.time(g, dev, rep, budgetS);
                } else {
                    measured = CaseProcess.timeHere(g, dev, data, rep, budgetS);
                    System.gc(); // the case's weights are off-heap, freed only once collected: free them before the next
                }
                for (int j = 0; j < group.size(); j++) {
                    caseRounds.get(group.get(j)).add(measured.get(j).timing());
                    weightBytes[group.get(j)] = measured.get(j).weightBytes();
                    bar.step();
                }
            }
            data.clear();
            System.gc();
            if (!noNumpy && (numpyRounds.isEmpty() || numpyRounds.getFirst().available())) {
                bar.start("numpy " + numpyShapes.size() + " shapes" + of);
                numpyRounds.add(Numpy.run(numpyShapes, rep, budgetS, () -> {
                    bar.step();
                    bar.start("numpy" + of);
                }));
            }
        }
        bar.finish();
        MachineProbe.Roofline roof = new MachineProbe.Roofline(median(peaks), median(bandwidths), MachineProbe.lanes(), probe);
        Numpy.Result np = numpyRounds.isEmpty() ? null : Numpy.acrossRounds(numpyRounds);

        List<CaseResult> results = results(cases, weightBytes, i -> Timing.acrossRounds(caseRounds.get(i)), np, roof);
        out.println(fork ? "each case timed in a JVM of its own (--in-process: all in this one); mixed cases: loaded and run together in one"
                : "every case timed in this JVM");
        Report.print(out, roof, np, noNumpy, results);
        List<Targets.Verdict> verdicts = List.of();
        if (s == Suite.TARGETS) {
            // Each target's ratio per round, both sides timed within that round, against that round's numpy.
            List<List<CaseResult>> perRound = new ArrayList<>();
            for (int r = 0; r < nRounds; r++) {
                int round = r;
                MachineProbe.Roofline roundRoof = new MachineProbe.Roofline(peaks.get(r), bandwidths.get(r), roof.lanes(), probe);
                Numpy.Result roundNp = r < numpyRounds.size() && numpyRounds.get(r).available() ? numpyRounds.get(r) : null;
                perRound.add(results(cases, weightBytes, i -> caseRounds.get(i).get(round), roundNp, roundRoof));
            }
            verdicts = Targets.evaluate(perRound);
        }
        Report.printTargets(out, verdicts, nRounds);
        if (plot != null) {
            RooflinePlot.write(plot, results, roof, "tornado-nn bench --suite " + s.label() + " on " + dev + " (" + backend + ")");
            out.printf("roofline chart written to %s%n", plot);
        }
        out.flush();
        boolean missed = verdicts.stream().anyMatch(v -> v.measured() && !v.met());
        return failOnMiss && missed ? 1 : 0;
    }

    /** The kernels' thread count: {@value #KERNEL_THREADS} when it is a whole number of at least 1, else every core. */
    static int kernelThreads() {
        String v = System.getProperty(KERNEL_THREADS);
        try {
            int n = v == null ? 0 : Integer.parseInt(v.trim());
            return n >= 1 ? n : Runtime.getRuntime().availableProcessors();
        } catch (NumberFormatException e) {
            return Runtime.getRuntime().availableProcessors(); // jvm-kernels warns about it and uses every core too
        }
    }

    /**
     * The cases as they are timed: each alone, except consecutive mixed cases of one shape, which
     * are loaded and timed together.
     */
    static List<List<Integer>> groups(List<BenchCase> cases) {
        List<List<Integer>> groups = new ArrayList<>();
        for (int i = 0; i < cases.size(); i++) {
            BenchCase c = cases.get(i);
            List<Integer> last = groups.isEmpty() ? null : groups.getLast();
            BenchCase previous = last == null ? null : cases.get(last.getLast());
            if (c.isMixed() && previous != null && previous.isMixed() && previous.shape().equals(c.shape())) {
                last.add(i);
            } else {
                groups.add(new ArrayList<>(List.of(i)));
            }
        }
        return groups;
    }

    private static List<CaseResult> results(List<BenchCase> cases, long[] weightBytes, IntFunction<Timing> timing,
                                            Numpy.Result np, MachineProbe.Roofline roof) {
        List<CaseResult> results = new ArrayList<>();
        for (int i = 0; i < cases.size(); i++) {
            BenchCase c = cases.get(i);
            Timing numpyTiming = np == null || c.isMlp() ? null : np.timings().get(Numpy.key(c.m(), c.n(), c.k()));
            results.add(new CaseResult(c, weightBytes[i], timing.apply(i), numpyTiming, roof));
        }
        return results;
    }

    private static double median(List<Double> values) {
        return Timing.of(values.stream().mapToDouble(Double::doubleValue).toArray()).median();
    }

    private void checkOptions(int rep, double budgetS, int nThreads, int nRounds) {
        if (nRounds < 1) {
            throw new ParameterException(spec.commandLine(), "--rounds must be at least 1, not " + nRounds);
        }
        if (rep < 1) {
            throw new ParameterException(spec.commandLine(), "--repeat must be at least 1, not " + rep);
        }
        if (!(budgetS > 0)) {
            throw new ParameterException(spec.commandLine(), "--budget must be a positive number of seconds, not " + budgetS);
        }
        if (nThreads < 1) {
            throw new ParameterException(spec.commandLine(), "--threads must be at least 1, not " + nThreads);
        }
        if (probeMib < 1) {
            throw new ParameterException(spec.commandLine(), "--probe-mib must be at least 1, not " + probeMib);
        }
        if (plot != null) {
            if (!plot.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".png")) {
                throw new ParameterException(spec.commandLine(), "--plot writes a PNG: give a file name ending in .png, not " + plot);
            }
            Path parent = plot.toAbsolutePath().getParent();
            if (parent != null && !Files.isDirectory(parent)) {
                throw new ParameterException(spec.commandLine(), "--plot: directory " + parent + " does not exist");
            }
        }
    }

    /** Each distinct linear shape once: numpy times f32 only, and every format of a shape is compared with it. */
    private static List<int[]> numpyShapes(List<BenchCase> cases) {
        Map<String, int[]> shapes = new LinkedHashMap<>();
        for (BenchCase c : cases) {
            if (!c.isMlp()) {
                shapes.putIfAbsent(Numpy.key(c.m(), c.n(), c.k()), new int[] {c.m(), c.n(), c.k()});
            }
        }
        return List.copyOf(shapes.values());
    }
}

package dev.tornadonn.cli;

import dev.tornadonn.core.DeviceRef;
import dev.tornadonn.core.backend.Backend;
import dev.tornadonn.core.backend.Backends;
import dev.tornadonn.core.weights.WeightKind;
import dev.tornadonn.parallel.HostCommunicator;
import dev.tornadonn.reference.CaseResult;
import dev.tornadonn.reference.Comparison;
import dev.tornadonn.reference.Tolerance;
import dev.tornadonn.reference.ConformanceCase;
import dev.tornadonn.reference.ConformanceSuite;
import java.io.PrintWriter;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "conformance", mixinStandardHelpOptions = true,
        description = "Run the conformance suite on a device and compare every case with the float64 oracle.")
final class ConformanceCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--device", defaultValue = "cpu", description = "Device to test: cpu, cpu:N or gpu:N (default: ${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--devices", description = "Also run the sharded cases over these devices, e.g. cpu:0,cpu:1,cpu:2,cpu:3 "
            + "(the single-device suite runs on the first).")
    String devices;

    @Option(names = "--seed", description = "Base seed for the random data (default: a fresh one, printed).")
    Long seed;

    @Override
    public Integer call() {
        List<DeviceRef> sharded = devices == null ? List.of()
                : DeviceRef.parseList(devices);
        DeviceRef dev = sharded.isEmpty() ? DeviceRef.parse(device) : sharded.get(0);
        Backend backend = Backends.forDevice(dev);
        long base = seed != null ? seed : ConformanceSuite.baseSeed();
        List<ConformanceCase> all = ConformanceSuite.cases(base);
        // A backend is not failed for the weight kinds it has no kernels for, nor passed: they are counted apart.
        Set<WeightKind> kinds = backend.weightKinds(dev);
        List<ConformanceCase> cases = all.stream().filter(c -> kinds.contains(c.weightKind())).toList();
        int unsupported = all.size() - cases.size();
        String missing = all.stream().map(ConformanceCase::weightKind).filter(k -> !kinds.contains(k)).distinct().sorted()
                .map(WeightKind::toString).collect(Collectors.joining(" and "));
        PrintWriter out = spec.commandLine().getOut();
        out.printf("conformance on %s (%s), %d cases, base seed %d%n", dev, backend.name(), cases.size(), base);
        if (unsupported > 0) {
            out.printf("not run: %d %s cases (%s has no kernels for them)%n", unsupported, missing, backend.name());
        }
        String format = "%-11s %-10s %-52s %-7s %12s  %s%n";
        out.printf(format, "layer", "weights", "shape", "device", "rel. error", "result");
        int failed = 0;
        for (ConformanceCase c : cases) {
            CaseResult r = c.run(dev);
            boolean ok = r.passed();
            failed += ok ? 0 : 1;
            String error = r.error() != null ? "error" : String.format("%.3e", r.comparison().relativeL2());
            out.printf(format, c.layer(), c.weightFormat(), c.shape(), dev, error,
                    ok ? "pass" : "FAIL" + (r.error() != null ? " (" + r.error() + ")" : " (seed " + c.seed() + ")"));
        }
        int total = cases.size();
        List<ShardedCases.Case> shardedCases = sharded.isEmpty() ? List.of() : ShardedCases.cases(sharded, base, new HostCommunicator());
        for (ShardedCases.Case c : shardedCases) {
            total++;
            String error;
            boolean ok;
            try {
                Comparison cmp = c.run().get();
                ok = cmp.within(Tolerance.F32_ACCUMULATION);
                error = String.format("%.3e", cmp.relativeL2());
            } catch (RuntimeException e) {
                ok = false;
                error = "error";
            }
            failed += ok ? 0 : 1;
            out.printf(format, c.layer(), c.weights(), c.shape(), sharded.size() + (sharded.get(0).isCpu() ? " cpus" : " gpus"), error,
                    ok ? "pass" : "FAIL (seed " + c.seed() + ")");
        }
        out.printf("%d passed, %d failed%s%n", total - failed, failed, unsupported > 0 ? ", " + unsupported + " not run" : "");
        if (failed > 0) {
            out.printf("reproduce with: tornado-nn conformance --device %s --seed %d%n", dev, base);
        }
        out.flush();
        return failed == 0 ? 0 : 1;
    }
}

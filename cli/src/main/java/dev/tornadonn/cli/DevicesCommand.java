package dev.tornadonn.cli;

import dev.tornadonn.core.backend.Backend;
import dev.tornadonn.core.backend.Backends;
import dev.tornadonn.core.backend.DeviceInfo;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(name = "devices", mixinStandardHelpOptions = true,
        description = "List the devices each backend on the class path can run: cpu:i (JVM kernels) and gpu:i (TornadoVM).")
final class DevicesCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        String format = "%-7s %-18s %-12s %10s  %s%n";
        out.printf(format, "device", "backend", "type", "memory", "name");
        boolean gpu = false;
        for (Backend b : Backends.all()) {
            for (DeviceInfo d : b.devices()) {
                gpu |= !d.ref().isCpu();
                out.printf(format, d.ref(), d.backend(), d.type(), memory(d.memoryBytes()), d.name());
            }
        }
        if (!gpu) {
            out.println("no gpu:i devices: the TornadoVM backend is not on the class path "
                    + "(build with -Ptornado and run with TORNADOVM_HOME set; see README)");
        }
        out.flush();
        return 0;
    }

    private static String memory(long bytes) {
        return bytes < 0 ? "?" : String.format("%.1f GiB", bytes / (double) (1L << 30));
    }
}

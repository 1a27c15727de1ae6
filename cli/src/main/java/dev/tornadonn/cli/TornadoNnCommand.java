package dev.tornadonn.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code tornado-nn}: check a backend against the oracle, run a layer on safetensors files, or time layers. */
@Command(name = "tornado-nn", mixinStandardHelpOptions = true, version = "tornado-nn 0.1.0",
        description = "LLM linear layers on the JVM, checked against a float64 oracle.",
        subcommands = {ConformanceCommand.class, RunCommand.class, DevicesCommand.class, dev.tornadonn.cli.bench.BenchCommand.class})
public final class TornadoNnCommand implements Runnable {

    @Option(names = "--verbose", scope = CommandLine.ScopeType.INHERIT,
            description = "Print a stack trace with errors.")
    boolean verbose;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(new CommandLine(this), "missing command: conformance, run or bench");
    }

    public static void main(String[] args) {
        Logging.configure(java.util.Arrays.asList(args).contains("--verbose"));
        System.exit(execute(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the command line with the given streams; returns the exit code (0 ok, 1 failure, 2 usage). */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        TornadoNnCommand root = new TornadoNnCommand();
        CommandLine cl = new CommandLine(root);
        cl.setOut(out);
        cl.setErr(err);
        cl.setParameterExceptionHandler((ex, argv) -> {
            err.println("tornado-nn: " + ex.getMessage().replaceAll("\\s*\\R\\s*", " ")
                    + " (see '" + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help')");
            return 2;
        });
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            err.println("tornado-nn: error: " + oneLine(ex));
            if (root.verbose) {
                ex.printStackTrace(err);
            }
            return 1;
        });
        return cl.execute(args);
    }

    private static String oneLine(Throwable e) {
        String msg = e.getMessage();
        if (msg == null || msg.isBlank()) {
            msg = e.getClass().getSimpleName();
        } else if (!(e instanceof dev.tornadonn.core.TornadoNnException) && !(e instanceof IllegalArgumentException)) {
            msg = e.getClass().getSimpleName() + ": " + msg;
        }
        return msg.replaceAll("\\s*\\R\\s*", " ");
    }
}

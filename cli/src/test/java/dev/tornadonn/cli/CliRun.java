package dev.tornadonn.cli;

import java.io.PrintWriter;
import java.io.StringWriter;

/** The command line run in-process, its exit code and both streams captured. */
record CliRun(int code, String out, String err) {

    static CliRun of(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = TornadoNnCommand.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new CliRun(code, out.toString(), err.toString());
    }
}

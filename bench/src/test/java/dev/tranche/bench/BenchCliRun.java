package dev.tranche.bench;

import dev.tranche.cli.Tranche;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

/** One run of the `tranche` command line in this JVM, with what it printed. */
record BenchCliRun(int code, String out, String err)
{
    static BenchCliRun of(String... args)
    {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine commandLine = Tranche.commandLine();
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        int code = commandLine.execute(args);
        return new BenchCliRun(code, out.toString(), err.toString());
    }
}

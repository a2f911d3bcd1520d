package dev.tranche.scheduler.testing;

import dev.tranche.cli.Tranche;
import picocli.CommandLine;

import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;

/** Runs the `tranche` command line in this JVM and keeps what it printed. */
public record CliRun(int code, String out, String err)
{
    public static CliRun of(List<String> args)
    {
        return run(Tranche.commandLine(), args);
    }

    /** The same with {@code stdin} as its standard input (taken not to be a terminal). */
    public static CliRun of(InputStream stdin, List<String> args)
    {
        return run(Tranche.commandLine(stdin), args);
    }

    private static CliRun run(CommandLine commandLine, List<String> args)
    {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        int code = commandLine.execute(args.toArray(String[]::new));
        return new CliRun(code, out.toString(), err.toString());
    }
}

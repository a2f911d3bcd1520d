package dev.tranche.cli;

import dev.tranche.client.TrancheClient;
import dev.tranche.proto.v1.ExperimentState;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "logs", description = "Print what an experiment's worker wrote; --follow keeps printing until the experiment ends.")
final class LogsCommand
        implements Callable<Integer>
{
    @Spec
    CommandSpec spec;

    @Mixin
    ClientOptions client;

    @Parameters(paramLabel = "ID", description = "Experiment id.")
    String id;

    @Option(names = "--rank", defaultValue = "0", description = "Which replica (default: ${DEFAULT-VALUE}, the one with the Spark driver).")
    int rank;

    @Option(names = "--tail", defaultValue = "100", description = "How many of the last lines (default: ${DEFAULT-VALUE}).")
    int tail;

    @Option(names = {"-f", "--follow"}, description = "Keep printing new lines until the experiment ends (Ctrl-C stops).")
    boolean follow;

    @Override
    public Integer call()
            throws InterruptedException
    {
        PrintWriter out = spec.commandLine().getOut();
        try (TrancheClient tranche = client.connect()) {
            List<String> shown = tranche.logs(id, rank, tail);
            shown.forEach(out::println);
            out.flush();
            while (follow) {
                Thread.sleep(1000);
                List<String> latest = tranche.logs(id, rank, 1000);
                List<String> fresh = after(shown, latest);
                fresh.forEach(out::println);
                out.flush();
                if (!fresh.isEmpty()) {
                    shown = latest;
                }
                else {
                    ExperimentState state = tranche.get(id).getState();
                    if (state == ExperimentState.SUCCEEDED || state == ExperimentState.FAILED || state == ExperimentState.CANCELLED) {
                        return 0;
                    }
                }
            }
        }
        return 0;
    }

    /** The lines of {@code latest} that come after the end of {@code shown} (all of them if they do not overlap). */
    static List<String> after(List<String> shown, List<String> latest)
    {
        if (shown.isEmpty()) {
            return latest;
        }
        // the longest end of what was shown that starts what is there now
        for (int overlap = Math.min(shown.size(), latest.size()); overlap > 0; overlap--) {
            if (latest.subList(0, overlap).equals(shown.subList(shown.size() - overlap, shown.size()))) {
                return latest.subList(overlap, latest.size());
            }
        }
        for (int start = latest.size() - 1; start >= 0; start--) {
            if (latest.get(start).equals(shown.get(shown.size() - 1))) {
                return latest.subList(start + 1, latest.size());
            }
        }
        return latest;
    }
}

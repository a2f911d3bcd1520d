package dev.tranche.bench;

import dev.tranche.cli.FileReplacement;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalDouble;
import java.util.concurrent.Callable;

@Command(name = "trace", description =
        "Writes a synthetic multi-team job trace in the format `tranche simulate --format tranche` reads: the "
        + "workload on which the production ordering's constants are chosen, so that no constant is tuned on the "
        + "Philly trace it is scored on. Its distributions are set a priori (docs/simulate.md, \"Synthetic traces\").")
public final class TraceBenchCommand
        implements Callable<Integer>
{
    @Spec
    CommandSpec spec;

    @Option(names = "--jobs", defaultValue = "20000", description = "Jobs (default: ${DEFAULT-VALUE}).")
    int jobs;

    @Option(names = "--teams", defaultValue = "10", description = "Teams (projects) (default: ${DEFAULT-VALUE}).")
    int teams;

    @Option(names = "--gpus", defaultValue = "640", description = "The cluster's GPUs the load is relative to (default: ${DEFAULT-VALUE}).")
    int gpus;

    @Option(names = "--gpus-per-node", defaultValue = "8", description = "Jobs larger than a node become replicas of this many GPUs (default: ${DEFAULT-VALUE}).")
    int gpusPerNode;

    @Option(names = "--load", defaultValue = "0.7", description = "Offered GPU demand as a fraction of --gpus, averaged over the trace (default: ${DEFAULT-VALUE}).")
    double load;

    @Option(names = "--sweep-spread", paramLabel = "SIGMA", description = {
            "Jobs of one sweep share a run time, each times a log-normal factor of this sigma (0: all alike).",
            "Without it each job of a sweep draws its own run time."})
    Double sweepSpread;

    @Option(names = "--seed", defaultValue = "1", description = "Seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--file", required = true, paramLabel = "FILE", description = "Where to write the trace (replaced only once complete).")
    Path file;

    @Override
    public Integer call()
    {
        if (jobs < 1 || jobs > 10_000_000) {
            throw new ParameterException(spec.commandLine(), "--jobs must be from 1 to 10000000: got " + jobs);
        }
        if (teams < 1 || teams > 1000) {
            throw new ParameterException(spec.commandLine(), "--teams must be from 1 to 1000: got " + teams);
        }
        if (gpusPerNode < 1 || gpus < gpusPerNode) {
            throw new ParameterException(spec.commandLine(), "--gpus must be at least --gpus-per-node, and both at least 1: got " + gpus + " and " + gpusPerNode);
        }
        if (!(load > 0 && load <= 10)) {
            throw new ParameterException(spec.commandLine(), "--load must be above 0 and at most 10: got " + load);
        }
        if (file.toAbsolutePath().getParent() != null && !Files.isDirectory(file.toAbsolutePath().getParent())) {
            throw new ParameterException(spec.commandLine(), "--file " + file + ": the folder does not exist");
        }
        if (sweepSpread != null && !(sweepSpread >= 0 && sweepSpread <= 5)) {
            throw new ParameterException(spec.commandLine(), "--sweep-spread must be from 0 to 5: got " + sweepSpread);
        }
        SyntheticTrace trace = new SyntheticTrace(jobs, teams, gpus, gpusPerNode, load, seed,
                sweepSpread == null ? OptionalDouble.empty() : OptionalDouble.of(sweepSpread));
        try {
            FileReplacement.writeString(file, trace.csv());
        }
        catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
        spec.commandLine().getOut().printf("%d jobs of %d teams over %.1f days written to %s%n", jobs, teams, trace.spanSeconds() / 86_400.0, file);
        return 0;
    }
}

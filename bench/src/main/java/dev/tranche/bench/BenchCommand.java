package dev.tranche.bench;

import picocli.CommandLine.Command;

@Command(name = "bench", description =
        "Benchmarks of the scheduler, with the numbers users see. "
        + "The results, and how to read them, are in docs/benchmarks.md.",
        subcommands = {SubmitBenchCommand.class, MetricsBenchCommand.class, PlacementBenchCommand.class, ScaleBenchCommand.class, TraceBenchCommand.class})
public final class BenchCommand
{
}

package dev.tranche.scheduler.bench;

import picocli.CommandLine.Command;

@Command(name = "bench", description = "Benchmarks; results and how to read them are in docs/benchmarks.md.",
        subcommands = {SubmitBenchCommand.class, PlacementBenchCommand.class, ScaleBenchCommand.class})
public final class BenchCommand
{
}

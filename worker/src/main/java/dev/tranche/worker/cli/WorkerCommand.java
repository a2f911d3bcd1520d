package dev.tranche.worker.cli;

import picocli.CommandLine.Command;

/**
 * One replica of a scheduled experiment, configured by the TRANCHE_* environment (docs/worker.md):
 * rank 0 of a gang runs the Spark master and the driver, the other ranks a Spark Worker each; a
 * single replica trains in-process like {@code train}.
 */
@Command(name = "worker", description = {
        "Run one replica of an experiment as the execution backend starts it, configured by TRANCHE_* variables (docs/worker.md).",
        "Rank 0 (or the only replica) trains; ranks 1.. join its Spark master as executors."})
final class WorkerCommand
        extends TrainCommand
{
}

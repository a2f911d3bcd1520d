package dev.tranche.cli;

import dev.tranche.proto.v1.Experiment;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

@Command(name = "cancel", description = "Cancel an experiment; running workers are stopped (they checkpoint first).")
final class CancelCommand
        implements Callable<Integer>
{
    @Spec
    CommandSpec spec;

    @Mixin
    ClientOptions client;

    @Parameters(paramLabel = "ID", description = "Experiment id.")
    String id;

    @Option(names = "--reason", description = "Why; shown in the experiment's timeline.")
    String reason = "";

    @Override
    public Integer call()
    {
        return client.show(spec, tranche -> tranche.cancel(id, reason), (out, experiment) -> {
            out.printf("%s: %s (%s)%n", experiment.getId(), experiment.getState(), experiment.getReason());
        });
    }
}

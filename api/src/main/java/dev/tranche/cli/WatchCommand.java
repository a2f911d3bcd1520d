package dev.tranche.cli;

import dev.tranche.client.TrancheClient;
import dev.tranche.proto.v1.ExperimentEvent;
import dev.tranche.proto.v1.WatchExperimentsRequest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.Iterator;
import java.util.concurrent.Callable;

@Command(name = "watch", description = "Follow state changes of one experiment (until it ends) or of a project (until Ctrl-C).")
final class WatchCommand
        implements Callable<Integer>
{
    @Spec
    CommandSpec spec;

    @Mixin
    ClientOptions client;

    @Parameters(paramLabel = "ID", arity = "0..1", description = "Experiment id; omit to watch every experiment.")
    String id = "";

    @Option(names = {"-p", "--project"}, description = "Only this project (when no ID is given).")
    String project = "";

    @Override
    public Integer call()
    {
        PrintWriter out = spec.commandLine().getOut();
        try (TrancheClient tranche = client.connect()) {
            Iterator<ExperimentEvent> events = tranche.watch(WatchExperimentsRequest.newBuilder().setId(id).setProject(project).build());
            while (events.hasNext()) {
                ExperimentEvent event = events.next();
                if (client.output() == OutputFormat.json) {
                    out.println(Formats.json(event).replaceAll("\\s*\\n\\s*", " "));
                }
                else if (event.hasTransition()) {
                    out.printf("%s  %s  %s -> %s  %s%n", Formats.time(event.getTransition().getAt()), event.getExperiment().getId(),
                            Formats.fromState(event.getTransition().getFrom()), event.getTransition().getTo(), event.getTransition().getReason());
                }
                else {
                    out.printf("%s  %s  %s  %s%n", Formats.time(event.getExperiment().getUpdatedAt()), event.getExperiment().getId(),
                            event.getExperiment().getState(), event.getExperiment().getReason());
                }
                out.flush();
            }
        }
        return 0;
    }
}

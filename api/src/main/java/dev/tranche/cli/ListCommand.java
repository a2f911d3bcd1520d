package dev.tranche.cli;

import dev.tranche.client.TrancheClient;
import dev.tranche.proto.v1.Experiment;
import dev.tranche.proto.v1.ExperimentState;
import dev.tranche.proto.v1.ListExperimentsRequest;
import dev.tranche.proto.v1.ListExperimentsResponse;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "list", aliases = "ls", description = "List experiments, newest first.")
final class ListCommand
        implements Callable<Integer>
{
    @Spec
    CommandSpec spec;

    @Mixin
    ClientOptions client;

    @Option(names = {"-p", "--project"}, description = "Only this project.")
    String project = "";

    @Option(names = {"-s", "--state"}, converter = StateConverter.class, completionCandidates = StateConverter.class, split = ",",
            description = "Only these states (repeat or comma-separate): ${COMPLETION-CANDIDATES}.")
    List<ExperimentState> states = new ArrayList<>();

    @Option(names = {"-n", "--limit"}, defaultValue = "50", description = "At most this many (default: ${DEFAULT-VALUE}; 0 for all).")
    int limit;

    @Override
    public Integer call()
    {
        if (limit < 0) {
            throw new ParameterException(spec.commandLine(), "--limit must not be negative: got " + limit);
        }
        List<Experiment> experiments = new ArrayList<>();
        boolean more;
        try (TrancheClient tranche = client.connect()) {
            String token = "";
            do {
                int pageSize = limit == 0 ? 1000 : Math.min(1000, limit - experiments.size());
                ListExperimentsResponse page = tranche.list(ListExperimentsRequest.newBuilder()
                        .setProject(project)
                        .addAllStates(states)
                        .setPageSize(pageSize)
                        .setPageToken(token)
                        .build());
                experiments.addAll(page.getExperimentsList());
                token = page.getNextPageToken();
                more = !token.isEmpty();
            }
            while (more && (limit == 0 || experiments.size() < limit));
        }
        PrintWriter out = spec.commandLine().getOut();
        if (client.output() == OutputFormat.json) {
            out.println(Formats.json(ListExperimentsResponse.newBuilder().addAllExperiments(experiments).build()));
            out.flush();
            return 0;
        }
        if (experiments.isEmpty()) {
            out.println("No experiments" + (project.isEmpty() ? "" : " in project " + project) + ".");
            out.flush();
            return 0;
        }
        Instant now = Instant.now();
        Table table = new Table("ID", "NAME", "PROJECT", "STATE", "GPUS", "AGE", "REASON");
        for (Experiment experiment : experiments) {
            table.row(experiment.getId(),
                    experiment.getSpec().getName(),
                    experiment.getSpec().getProject(),
                    experiment.getState().name(),
                    Formats.gpus(experiment.getSpec()),
                    Formats.age(experiment.getCreatedAt(), now),
                    Formats.shorten(experiment.getReason(), 60));
        }
        table.print(out);
        if (more) {
            out.println("(more experiments: raise --limit, or --limit 0 for all)");
            out.flush();
        }
        return 0;
    }
}

package dev.tranche.cli;

import dev.tranche.proto.v1.Experiment;
import dev.tranche.proto.v1.ExperimentSpec;
import dev.tranche.spec.ExperimentSpecFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.UUID;
import java.util.concurrent.Callable;

@Command(name = "submit", description = "Submit an experiment from a spec file (YAML or JSON).")
final class SubmitCommand
        implements Callable<Integer>
{
    @Spec
    CommandSpec spec;

    @Mixin
    ClientOptions client;

    @Option(names = {"-f", "--file"}, required = true, paramLabel = "SPEC", description = "The experiment spec, e.g. docs/examples/fashion-mnist-lenet.yaml.")
    Path file;

    @Option(names = "--request-id", paramLabel = "ID",
            description = "Makes the submission idempotent: resubmitting with the same id returns the first experiment (default: a fresh UUID).")
    String requestId;

    @Override
    public Integer call()
    {
        ExperimentSpec experimentSpec = ExperimentSpecFiles.read(file);
        String id = requestId == null ? UUID.randomUUID().toString() : requestId;
        return client.show(spec, tranche -> tranche.submit(experimentSpec, id), (out, response) -> {
            Experiment experiment = response.getExperiment();
            out.printf("%s %s: %s in project %s, %s (%s)%n",
                    response.getCreated() ? "submitted" : "already submitted",
                    experiment.getId(), experiment.getSpec().getName(), experiment.getSpec().getProject(),
                    experiment.getState(), Formats.gpus(experiment.getSpec()));
        });
    }
}

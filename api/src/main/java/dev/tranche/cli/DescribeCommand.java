package dev.tranche.cli;

import dev.tranche.proto.v1.Experiment;
import dev.tranche.proto.v1.ExperimentSpec;
import dev.tranche.proto.v1.StateTransition;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

@Command(name = "describe", description = "Show one experiment: its spec, state and the timeline of its states with reasons.")
final class DescribeCommand
        implements Callable<Integer>
{
    @Spec
    CommandSpec spec;

    @Mixin
    ClientOptions client;

    @Parameters(paramLabel = "ID", description = "Experiment id, e.g. exp-7k2m9q4xz1.")
    String id;

    @Override
    public Integer call()
    {
        return client.show(spec, tranche -> tranche.get(id), (out, experiment) -> {
            ExperimentSpec s = experiment.getSpec();
            out.printf("ID:          %s%n", experiment.getId());
            out.printf("Name:        %s%n", s.getName());
            out.printf("Project:     %s%n", s.getProject());
            if (s.getLabelsCount() > 0) {
                out.printf("Labels:      %s%n", s.getLabelsMap().entrySet().stream().sorted(java.util.Map.Entry.comparingByKey())
                        .map(e -> e.getKey() + "=" + e.getValue()).reduce((a, b) -> a + ", " + b).orElse(""));
            }
            out.printf("State:       %s%n", experiment.getState());
            out.printf("Reason:      %s%n", experiment.getReason());
            if (experiment.hasWaiting()) {
                out.printf("Waiting:     %s%s%n", experiment.getWaiting().getReason(), Formats.fitCounts(experiment.getWaiting()));
            }
            out.printf("Created:     %s%n", Formats.time(experiment.getCreatedAt()));
            out.printf("Updated:     %s%n", Formats.time(experiment.getUpdatedAt()));
            out.printf("Attempts:    %s%n", attempts(experiment, s));
            out.printf("GPU time:    %s GPU-hours, all attempts%n", Formats.gpuHours(experiment.getAttainedGpuSeconds()));
            out.printf("Model:       %s, conv filters %s, dense %d%s%n", s.getModel().getArchitecture(), s.getModel().getConvFiltersList(),
                    s.getModel().getDenseUnits(), s.getModel().getBlocksPerStage() > 0 ? ", " + s.getModel().getBlocksPerStage() + " blocks per stage" : "");
            out.printf("Dataset:     %s%s%s%n", s.getDataset().getKind(),
                    s.getDataset().getLocation().isEmpty() ? "" : " at " + s.getDataset().getLocation(),
                    s.getDataset().getLimit() > 0 ? ", first " + s.getDataset().getLimit() + " images" : "");
            out.printf("Training:    %s, batch %d, %s lr %s, seed %d, %s%n", Formats.count(s.getTraining().getEpochs(), "epoch"), s.getTraining().getBatchSize(),
                    s.getTraining().getOptimizer(), Formats.number(s.getTraining().getLearningRate()), s.getTraining().getSeed(),
                    s.getTraining().getDataParallelism());
            out.printf("Replicas:    %d, each %s, %s CPU, %d MiB%n", s.getReplicas(),
                    Formats.gpu(s.getResources().getGpu(), s.getResources().hasGpu()),
                    Formats.number(s.getResources().getCpuMilli() / 1000.0), s.getResources().getMemoryMib());
            out.printf("Priority:    %s, %s, up to %s%n", s.getPriority(), s.getPreemptible() ? "preemptible" : "not preemptible", Formats.count(s.getMaxRetries(), "retry", "retries"));
            out.println("Timeline:");
            Table timeline = new Table("  AT", "FROM", "TO", "REASON");
            for (StateTransition transition : experiment.getHistoryList()) {
                timeline.row("  " + Formats.time(transition.getAt()),
                        Formats.fromState(transition.getFrom()),
                        transition.getTo().name(),
                        transition.getReason());
            }
            timeline.print(out);
        });
    }

    /** "none yet", or "2 (1 failed; 1 retry left)": every placement is an attempt; failed ones use up the spec's retries. */
    static String attempts(Experiment experiment, ExperimentSpec spec)
    {
        if (experiment.getAttempts() == 0) {
            return "none yet";
        }
        long left = Math.max(0, spec.getMaxRetries() - experiment.getFailedAttempts());
        return experiment.getAttempts() + " (" + experiment.getFailedAttempts() + " failed; " + Formats.count(left, "retry", "retries") + " left)";
    }
}

package dev.tranche.cli;

import dev.tranche.proto.v1.DailyWait;
import dev.tranche.proto.v1.GetUsageRequest;
import dev.tranche.proto.v1.ProjectUsageSample;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "usage", description = {"GPUs each project held against its deserved share over time, and how long work waited to start.",
        "The scheduler samples once a minute; -o json prints every sample."})
final class UsageCommand
        implements Callable<Integer>
{
    @Spec
    CommandSpec spec;

    @Mixin
    ClientOptions client;

    @Option(names = "--days", paramLabel = "N", defaultValue = "7", description = "How many days back, 1..90 (default: ${DEFAULT-VALUE}).")
    int days;

    @Option(names = "--project", paramLabel = "NAME", description = "Only this project (default: every project you may read).")
    String project;

    @Override
    public Integer call()
    {
        GetUsageRequest request = GetUsageRequest.newBuilder().setDays(days).setProject(project == null ? "" : project).build();
        return client.show(spec, tranche -> tranche.usage(request), (out, usage) -> {
            if (usage.getProjectsCount() == 0) {
                out.println("No usage recorded in the last " + Formats.count(days, "day") + " (the scheduler samples once a minute).");
                return;
            }
            Map<String, List<ProjectUsageSample>> byProject = new LinkedHashMap<>();
            usage.getProjectsList().forEach(sample -> byProject.computeIfAbsent(sample.getProject(), ignored -> new ArrayList<>()).add(sample));
            Table table = new Table("PROJECT", "HELD NOW", "DESERVED", "HELD AVG", "OF DESERVED", "WAITING NOW", "STARTED", "WAIT P50", "WAIT P95");
            for (Map.Entry<String, List<ProjectUsageSample>> entry : byProject.entrySet()) {
                List<ProjectUsageSample> samples = entry.getValue();
                ProjectUsageSample last = samples.get(samples.size() - 1);
                double held = samples.stream().mapToDouble(ProjectUsageSample::getHeldGpus).average().orElse(0);
                double deserved = samples.stream().mapToDouble(ProjectUsageSample::getDeservedGpus).average().orElse(0);
                List<DailyWait> waits = usage.getWaitsList().stream().filter(wait -> wait.getProject().equals(entry.getKey())).toList();
                int started = waits.stream().mapToInt(DailyWait::getStarted).sum();
                // over the whole period: the days' medians and p95s weighted by how many started that day
                double p50 = started == 0 ? 0 : waits.stream().mapToDouble(wait -> wait.getP50Seconds() * wait.getStarted()).sum() / started;
                double p95 = waits.stream().mapToDouble(DailyWait::getP95Seconds).max().orElse(0);
                table.row(entry.getKey(), Formats.number(last.getHeldGpus()), Formats.number(last.getDeservedGpus()),
                        String.format(Locale.ROOT, "%.2f", held), deserved == 0 ? "-" : String.format(Locale.ROOT, "%.0f%%", 100 * held / deserved),
                        Integer.toString(last.getPending()), Integer.toString(started), started == 0 ? "-" : seconds(p50), started == 0 ? "-" : seconds(p95));
            }
            table.print(out);
            double capacity = usage.getClusterList().stream().mapToDouble(sample -> sample.getCapacityGpus()).sum();
            double allocated = usage.getClusterList().stream().mapToDouble(sample -> sample.getAllocatedGpus()).sum();
            out.printf(Locale.ROOT, "Cluster: %.1f%% of its GPUs allocated on average over %s sampled. WAIT P50 is the days' medians weighted by starts, "
                    + "WAIT P95 the worst day's.%n", capacity == 0 ? 0 : 100 * allocated / capacity, Formats.count(usage.getClusterCount(), "minute"));
            if (usage.getFairnessCount() > 0) {
                out.printf(Locale.ROOT, "Fairness: Jain's index over these projects of GPUs received against deserved (capped by what each asked for) averaged %.3f"
                        + " over %s (1 is perfectly fair; tranche simulate reports the same figure).%n", usage.getMeanFairness(), Formats.count(usage.getFairnessCount(), "hour"));
            }
        });
    }

    private static String seconds(double seconds)
    {
        if (seconds < 90) {
            return String.format(Locale.ROOT, "%.0f s", seconds);
        }
        if (seconds < 5400) {
            return String.format(Locale.ROOT, "%.1f min", seconds / 60);
        }
        return String.format(Locale.ROOT, "%.1f h", seconds / 3600);
    }
}

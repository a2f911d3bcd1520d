package dev.tranche.cli;

import dev.tranche.client.TrancheClient;
import dev.tranche.proto.v1.ExperimentState;
import dev.tranche.proto.v1.GetMetricsRequest;
import dev.tranche.proto.v1.GetMetricsResponse;
import dev.tranche.proto.v1.MetricPoint;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;

@Command(name = "metrics", description = "Show an experiment's latest metrics; --follow prints new points as they arrive, until it ends.")
final class MetricsCommand
        implements Callable<Integer>
{
    @Spec
    CommandSpec spec;

    @Mixin
    ClientOptions client;

    @Parameters(paramLabel = "ID", description = "Experiment id.")
    String id;

    @Option(names = {"-n", "--name"}, split = ",", description = "Only these series, e.g. loss,test_accuracy.")
    List<String> names = new ArrayList<>();

    @Option(names = {"-f", "--follow"}, description = "Keep printing new points until the experiment ends (Ctrl-C stops).")
    boolean follow;

    @Override
    public Integer call()
            throws InterruptedException
    {
        PrintWriter out = spec.commandLine().getOut();
        try (TrancheClient tranche = client.connect()) {
            if (!follow) {
                Map<String, MetricPoint> latest = new TreeMap<>();
                tranche.metrics(request(-1).toBuilder().setLatestOnly(true).build()).getPointsList().forEach(point -> latest.put(point.getName(), point));
                if (client.output() == OutputFormat.json) {
                    out.println(Formats.json(GetMetricsResponse.newBuilder().addAllPoints(latest.values()).build()));
                }
                else if (latest.isEmpty() && !names.isEmpty()) {
                    // a misspelt or not yet reported series: say which there are
                    java.util.Set<String> existing = new java.util.TreeSet<>();
                    tranche.metrics(GetMetricsRequest.newBuilder().setExperimentId(id).setAfterStep(-1).setLatestOnly(true).build())
                            .getPointsList().forEach(point -> existing.add(point.getName()));
                    out.println("No points for " + String.join(", ", names) + " in " + id + (existing.isEmpty()
                            ? "; it has reported no metrics yet."
                            : "; the series it has are: " + String.join(", ", existing) + "."));
                }
                else if (latest.isEmpty()) {
                    out.println("No metrics for " + id + " yet.");
                }
                else {
                    Table table = new Table("SERIES", "VALUE", "EPOCH", "STEP", "AT");
                    latest.values().forEach(point -> table.row(point.getName(), Formats.number(point.getValue()), Integer.toString(point.getEpoch()),
                            Long.toString(point.getStep()), Formats.time(point.getAt())));
                    table.print(out);
                }
                out.flush();
                return 0;
            }
            long last = -1;
            // an epoch's summary can arrive after the step points of the same step: read the last step again
            java.util.Set<String> seenAtLast = new java.util.HashSet<>();
            while (true) {
                GetMetricsResponse page = tranche.metrics(request(last - 1));
                List<MetricPoint> points = new ArrayList<>();
                for (MetricPoint point : page.getPointsList()) {
                    if (point.getStep() > last || (point.getStep() == last && !seenAtLast.contains(point.getName()))) {
                        points.add(point);
                    }
                }
                points.sort((a, b) -> Long.compare(a.getStep(), b.getStep()));
                for (MetricPoint point : points) {
                    if (client.output() == OutputFormat.json) {
                        out.println(Formats.json(point).replaceAll("\\s*\\n\\s*", " "));
                    }
                    else {
                        out.printf("%s  epoch %d  step %d  %s = %s%n", Formats.time(point.getAt()), point.getEpoch(), point.getStep(), point.getName(),
                                Formats.number(point.getValue()));
                    }
                    if (point.getStep() > last) {
                        last = point.getStep();
                        seenAtLast.clear();
                    }
                    seenAtLast.add(point.getName());
                }
                out.flush();
                if (points.isEmpty()) {
                    ExperimentState state = tranche.get(id).getState();
                    if (state == ExperimentState.SUCCEEDED || state == ExperimentState.FAILED || state == ExperimentState.CANCELLED) {
                        return 0;
                    }
                    Thread.sleep(1000);
                }
            }
        }
    }

    private GetMetricsRequest request(long afterStep)
    {
        return GetMetricsRequest.newBuilder().setExperimentId(id).addAllNames(names).setAfterStep(afterStep).setMaxPoints(100_000).build();
    }
}

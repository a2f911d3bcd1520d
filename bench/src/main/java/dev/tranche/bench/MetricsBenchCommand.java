package dev.tranche.bench;

import com.google.protobuf.Timestamp;
import dev.tranche.client.ConnectionSettings;
import dev.tranche.client.MetricReports;
import dev.tranche.client.TrancheClient;
import dev.tranche.scheduler.security.TokenSecrets;
import dev.tranche.proto.v1.MetricBatch;
import dev.tranche.proto.v1.MetricPoint;
import dev.tranche.proto.v1.ReportAck;
import dev.tranche.scheduler.server.ExampleSpec;
import dev.tranche.scheduler.server.SchedulerConfig;
import dev.tranche.scheduler.server.SchedulerServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

@Command(name = "metrics", description =
        "Metric ingestion: N concurrent worker streams send batches of points to a scheduler with an embedded "
        + "PostgreSQL (started in a temporary home); prints points/s and checks that every point is stored.")
public final class MetricsBenchCommand
        implements Runnable
{
    @Spec
    CommandSpec spec;

    @Option(names = "--streams", defaultValue = "8", description = "Concurrent worker streams, one experiment each (default: ${DEFAULT-VALUE}).")
    int streams;

    @Option(names = "--points", defaultValue = "2000000", description = "Points in all (default: ${DEFAULT-VALUE}).")
    long points;

    @Option(names = "--batch", defaultValue = "1000", description = "Points per batch (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = {"-o", "--output"}, defaultValue = "table", description = "table or json (default: ${DEFAULT-VALUE}).")
    String output;

    @Override
    public void run()
    {
        if (streams < 1 || streams > 256 || points < streams || points > 100_000_000L || batch < 1 || batch > 10_000) {
            throw new ParameterException(spec.commandLine(), "need 1..256 streams, at least one point per stream (at most 100,000,000), batches of 1..10000");
        }
        if (!output.equals("table") && !output.equals("json")) {
            throw new ParameterException(spec.commandLine(), "--output must be table or json: got " + output);
        }
        Path home;
        try {
            home = Files.createTempDirectory("tranche-bench-metrics-");
        }
        catch (IOException e) {
            throw new IllegalStateException("cannot create a temporary home: " + e.getMessage(), e);
        }
        String token = new TokenSecrets().newSecret();
        SchedulerConfig config = SchedulerConfig.fromEnvironment(Map.of(), home).withHome(home).withBindAddress("127.0.0.1").withPorts(0, 0);
        try (SchedulerServer server = SchedulerServer.start(config.withSecurity(config.security().withAdminToken(Optional.of(token)).withRateLimit(0)));
                TrancheClient client = TrancheClient.connect(ConnectionSettings.plaintext("127.0.0.1:" + server.grpcPort()).withToken(token));
                // workers report with their experiment's credential, not a user token
                TrancheClient workers = TrancheClient.connect("127.0.0.1:" + server.grpcPort())) {
            List<String> experiments = new ArrayList<>();
            for (int i = 0; i < streams; i++) {
                experiments.add(client.submit(ExampleSpec.fashionMnistLenet().toBuilder().setName("metrics-bench-" + i).build()).getExperiment().getId());
            }
            long perStream = points / streams;
            long start = System.nanoTime();
            List<CompletableFuture<ReportAck>> acks = new ArrayList<>();
            for (String id : experiments) {
                acks.add(stream(workers, id, server.workerCredential(id), perStream));
            }
            long acknowledged = 0;
            for (CompletableFuture<ReportAck> ack : acks) {
                acknowledged += ack.get(30, TimeUnit.MINUTES).getStored();
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            long stored = 0;
            for (String id : experiments) {
                stored += countStored(client, id);
            }
            PrintWriter out = spec.commandLine().getOut();
            if (output.equals("json")) {
                out.printf(Locale.ROOT, "{\"streams\": %d, \"points\": %d, \"batch\": %d, \"seconds\": %.2f, \"points_per_second\": %.0f, \"stored\": %d}%n",
                        streams, perStream * streams, batch, seconds, acknowledged / seconds, stored);
            }
            else {
                out.printf(Locale.ROOT, "%d streams x %d points in batches of %d: %.2f s, %.0f points/s%n", streams, perStream, batch, seconds, acknowledged / seconds);
                out.printf(Locale.ROOT, "sent %d, acknowledged %d, stored in PostgreSQL %d: %s%n", perStream * streams, acknowledged, stored,
                        stored == perStream * streams ? "nothing lost" : "MISMATCH");
            }
            out.flush();
            if (stored != perStream * streams) {
                throw new IllegalStateException("sent " + perStream * streams + " points but " + stored + " are stored");
            }
        }
        catch (Exception e) {
            if (e instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new IllegalStateException(e.getMessage(), e);
        }
        finally {
            try (var paths = Files.walk(home)) {
                paths.sorted(java.util.Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
            }
            catch (IOException ignored) {
                // a temporary directory
            }
        }
    }

    /** One worker's stream of {@code count} points in batches, sent as a worker sends them. */
    private CompletableFuture<ReportAck> stream(TrancheClient client, String experimentId, String credential, long count)
    {
        long seconds = System.currentTimeMillis() / 1000;
        Iterator<MetricBatch> batches = new Iterator<>()
        {
            private long step;

            @Override
            public boolean hasNext()
            {
                return step < count;
            }

            @Override
            public MetricBatch next()
            {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                MetricBatch.Builder next = MetricBatch.newBuilder().setExperimentId(experimentId).setCredential(credential);
                for (int i = 0; i < batch && step < count; i++, step++) {
                    next.addPoints(MetricPoint.newBuilder().setName("loss").setStep(step).setEpoch((int) (step / 1000) + 1).setValue(1.0 / (step + 1))
                            .setAt(Timestamp.newBuilder().setSeconds(seconds)));
                }
                return next.build();
            }
        };
        return MetricReports.send(client.channel(), batches, "bench-metrics-" + experimentId);
    }

    /** Counts through the API, page by page in step order. */
    private static long countStored(TrancheClient client, String experimentId)
    {
        long count = 0;
        long after = -1;
        while (true) {
            List<MetricPoint> page = client.metrics(dev.tranche.proto.v1.GetMetricsRequest.newBuilder()
                    .setExperimentId(experimentId).addNames("loss").setAfterStep(after).setMaxPoints(100_000).build()).getPointsList();
            if (page.isEmpty()) {
                return count;
            }
            count += page.size();
            after = page.get(page.size() - 1).getStep();
        }
    }
}

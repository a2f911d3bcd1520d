package dev.tranche.scheduler.bench;

import dev.tranche.client.ConnectionSettings;
import dev.tranche.client.TrancheClient;
import dev.tranche.scheduler.security.TokenSecrets;
import dev.tranche.proto.v1.ExperimentSpec;
import dev.tranche.proto.v1.ListExperimentsRequest;
import dev.tranche.proto.v1.ListExperimentsResponse;
import dev.tranche.proto.v1.Project;
import dev.tranche.scheduler.server.ExampleSpec;
import dev.tranche.scheduler.server.SchedulerConfig;
import dev.tranche.scheduler.server.SchedulerServer;
import io.grpc.StatusRuntimeException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

@Command(name = "submit", description = {
        "Durable submissions over gRPC: N concurrent clients submit as fast as they can; every acknowledged",
        "submission is committed to PostgreSQL, and the count is checked against the server afterwards.",
        "Without --server it starts its own scheduler with an embedded PostgreSQL in a temporary home."})
public final class SubmitBenchCommand
        implements Runnable
{
    @Spec
    CommandSpec spec;

    @Option(names = "--server", paramLabel = "HOST:PORT", description = "Benchmark a running scheduler instead of starting one.")
    String server;

    @Option(names = "--clients", defaultValue = "32", description = "Concurrent clients, each with its own connection (default: ${DEFAULT-VALUE}).")
    int clients;

    @Option(names = "--duration", defaultValue = "20", description = "Seconds measured (default: ${DEFAULT-VALUE}).")
    int durationSeconds;

    @Option(names = "--warmup", defaultValue = "5", description = "Seconds of submissions before measuring (default: ${DEFAULT-VALUE}).")
    int warmupSeconds;

    @Option(names = {"-o", "--output"}, defaultValue = "table", description = "table or json (default: ${DEFAULT-VALUE}).")
    String output;

    @Override
    public void run()
    {
        if (clients < 1 || clients > 1024) {
            throw new ParameterException(spec.commandLine(), "--clients must be in [1, 1024]: got " + clients);
        }
        if (durationSeconds < 1 || durationSeconds > 3600 || warmupSeconds < 0 || warmupSeconds > 600) {
            throw new ParameterException(spec.commandLine(), "--duration must be in [1, 3600] and --warmup in [0, 600]");
        }
        if (!output.equals("table") && !output.equals("json")) {
            throw new ParameterException(spec.commandLine(), "--output must be table or json: got " + output);
        }
        Path home = null;
        SchedulerServer own = null;
        try {
            ConnectionSettings target;
            if (server == null) {
                home = Files.createTempDirectory("tranche-bench-");
                String token = new TokenSecrets().newSecret();
                // the benchmark's 32 clients share one token: no rate limit on its own server
                SchedulerConfig config = SchedulerConfig.fromEnvironment(java.util.Map.of(), home).withHome(home).withBindAddress("127.0.0.1").withPorts(0, 0);
                own = SchedulerServer.start(config.withSecurity(config.security().withAdminToken(Optional.of(token)).withRateLimit(0)));
                target = ConnectionSettings.plaintext("127.0.0.1:" + own.grpcPort()).withToken(token);
            }
            else {
                String token = System.getenv("TRANCHE_TOKEN");
                if (token == null || token.isBlank()) {
                    throw new ParameterException(spec.commandLine(), "--server needs an admin token in $TRANCHE_TOKEN (and a --rate-limit high enough on that server)");
                }
                target = ConnectionSettings.plaintext(server).withToken(token.strip());
            }
            report(measure(target));
        }
        catch (IOException e) {
            throw new IllegalStateException("cannot create a temporary home: " + e.getMessage(), e);
        }
        finally {
            if (own != null) {
                own.close();
            }
            if (home != null) {
                deleteQuietly(home);
            }
        }
    }

    record Result(int clients, double seconds, long acknowledged, long failed, long stored, double perSecond, double p50Millis, double p99Millis,
            double p999Millis, double maxMillis, Optional<String> firstError) {}

    private Result measure(ConnectionSettings target)
    {
        String project = "bench-" + UUID.randomUUID().toString().substring(0, 8);
        ExperimentSpec template = ExampleSpec.fashionMnistLenet().toBuilder().setProject(project).build();
        try (TrancheClient admin = TrancheClient.connect(target)) {
            admin.createProject(Project.newBuilder().setName(project).setDescription("tranche bench submit").build());
        }
        List<TrancheClient> connections = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            connections.add(TrancheClient.connect(target));
        }
        List<LatencyRecorder> recorders = new ArrayList<>();
        AtomicLong acknowledged = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        AtomicReference<String> firstError = new AtomicReference<>();
        long warmupEnd = System.nanoTime() + Duration.ofSeconds(warmupSeconds).toNanos();
        long end = warmupEnd + Duration.ofSeconds(durationSeconds).toNanos();
        CountDownLatch done = new CountDownLatch(clients);
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            TrancheClient client = connections.get(i);
            LatencyRecorder recorder = new LatencyRecorder();
            recorders.add(recorder);
            int clientIndex = i;
            Thread thread = new Thread(() -> {
                try {
                    long n = 0;
                    while (true) {
                        long start = System.nanoTime();
                        if (start >= end) {
                            break;
                        }
                        ExperimentSpec spec = template.toBuilder().setName("bench-" + clientIndex + "-" + n++).build();
                        try {
                            client.submit(spec, UUID.randomUUID().toString());
                            long finished = System.nanoTime();
                            if (start >= warmupEnd) {
                                recorder.record(finished - start);
                                acknowledged.incrementAndGet();
                            }
                            else {
                                acknowledged.incrementAndGet();
                            }
                        }
                        catch (StatusRuntimeException e) {
                            failed.incrementAndGet();
                            firstError.compareAndSet(null, e.getStatus().toString());
                        }
                    }
                }
                finally {
                    done.countDown();
                }
            }, "bench-client-" + i);
            threads.add(thread);
            thread.start();
        }
        try {
            done.await();
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
        long[] sorted = LatencyRecorder.merge(recorders);
        long stored;
        try (TrancheClient counter = TrancheClient.connect(target)) {
            stored = count(counter, project);
        }
        connections.forEach(TrancheClient::close);
        return new Result(clients, durationSeconds, acknowledged.get(), failed.get(), stored, sorted.length / (double) durationSeconds,
                LatencyRecorder.quantileMillis(sorted, 0.50), LatencyRecorder.quantileMillis(sorted, 0.99),
                LatencyRecorder.quantileMillis(sorted, 0.999), sorted.length == 0 ? Double.NaN : sorted[sorted.length - 1] / 1e6,
                Optional.ofNullable(firstError.get()));
    }

    private static long count(TrancheClient client, String project)
    {
        long count = 0;
        String token = "";
        do {
            ListExperimentsResponse page = client.list(ListExperimentsRequest.newBuilder().setProject(project).setPageSize(1000).setPageToken(token).build());
            count += page.getExperimentsCount();
            token = page.getNextPageToken();
        }
        while (!token.isEmpty());
        return count;
    }

    private void report(Result result)
    {
        PrintWriter out = spec.commandLine().getOut();
        if (output.equals("json")) {
            out.printf(Locale.ROOT, "{\"clients\": %d, \"seconds\": %.0f, \"acknowledged\": %d, \"failed\": %d, \"stored\": %d, "
                            + "\"submits_per_second\": %.1f, \"p50_ms\": %.2f, \"p99_ms\": %.2f, \"p999_ms\": %.2f, \"max_ms\": %.2f}%n",
                    result.clients(), result.seconds(), result.acknowledged(), result.failed(), result.stored(), result.perSecond(),
                    result.p50Millis(), result.p99Millis(), result.p999Millis(), result.maxMillis());
        }
        else {
            out.printf(Locale.ROOT, "clients %d, measured %.0f s after warm-up%n", result.clients(), result.seconds());
            out.printf(Locale.ROOT, "acknowledged submits/s: %.1f%n", result.perSecond());
            out.printf(Locale.ROOT, "latency ms: p50 %.2f  p99 %.2f  p99.9 %.2f  max %.2f%n", result.p50Millis(), result.p99Millis(), result.p999Millis(), result.maxMillis());
            out.printf(Locale.ROOT, "acknowledged %d (incl. warm-up), failed %d, stored in PostgreSQL %d: %s%n", result.acknowledged(), result.failed(), result.stored(),
                    result.stored() == result.acknowledged() ? "every acknowledged submission is stored" : "MISMATCH");
            result.firstError().ifPresent(error -> out.println("first error: " + error));
        }
        out.flush();
        if (result.stored() != result.acknowledged()) {
            throw new IllegalStateException("acknowledged " + result.acknowledged() + " submissions but " + result.stored() + " are stored");
        }
    }

    private static void deleteQuietly(Path root)
    {
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        }
        catch (IOException ignored) {
            // a temporary directory; the OS cleans it eventually
        }
    }
}

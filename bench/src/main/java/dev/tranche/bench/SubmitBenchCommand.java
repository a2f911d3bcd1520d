package dev.tranche.bench;

import dev.tranche.client.ConnectionSettings;
import dev.tranche.client.TrancheClient;
import dev.tranche.scheduler.security.TokenSecrets;
import dev.tranche.proto.v1.ExperimentSpec;
import dev.tranche.proto.v1.ListExperimentsRequest;
import dev.tranche.proto.v1.ListExperimentsResponse;
import dev.tranche.proto.v1.Project;
import dev.tranche.scheduler.server.ExampleSpec;
import dev.tranche.proto.v1.ExperimentServiceGrpc;
import dev.tranche.proto.v1.SubmitExperimentRequest;
import dev.tranche.proto.v1.SubmitExperimentResponse;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
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
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

@Command(name = "submit", description =
        "Durable submissions over gRPC; every acknowledged submission is committed to PostgreSQL, and the "
        + "count is checked against the server afterwards. Closed loop (default): N clients submit as fast as "
        + "they can, each waiting for its answer. Open loop (--rate): submissions are offered on a fixed "
        + "schedule whatever the answers, and each latency counts from the moment the submission was due, so "
        + "queueing is not hidden (no coordinated omission); several rates run one after the other. "
        + "Without --server it starts its own scheduler (`tranche server`, in a JVM of its own, with TRANCHE_JAVA_OPTS) "
        + "with an embedded PostgreSQL in a temporary home.")
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

    @Option(names = "--warmup", defaultValue = "5", description = "Seconds of submissions before measuring (default: ${DEFAULT-VALUE}); open loop: at least that many.")
    int warmupSeconds;

    @Option(names = "--max-warmup", defaultValue = "90",
            description = "Open loop: after --warmup, go on warming up until the JIT compilers of the server (own server only) and of this generator have settled "
                    + "(under 5%% of a core each over the last 3 s), but for at most this many seconds in all; equal to --warmup for a fixed warm-up (default: ${DEFAULT-VALUE}).")
    int maxWarmupSeconds;

    @Option(names = {"-o", "--output"}, defaultValue = "table", description = "table or json (default: ${DEFAULT-VALUE}).")
    String output;

    @Option(names = "--rate", paramLabel = "PER_SECOND[,...]", split = ",",
            description = "Open loop: offered submissions per second, or several rates run in turn (e.g. 500,1000,2000,3000); --clients is then the number of connections the calls are spread over.")
    List<Integer> rates;

    @Option(names = "--preload", defaultValue = "0",
            description = "Open loop, own server only: experiments submitted (as fast as the clients can) before the first rate, so that every cycle passes over that backlog; the server's scheduling-cycle times are then reported per rate (default: ${DEFAULT-VALUE}).")
    int preload;

    @Option(names = "--target-p99", defaultValue = "50", description = "Open loop: the p99 (ms) a rate must stay under to count as sustained (default: ${DEFAULT-VALUE}).")
    double targetP99Millis;

    @Option(names = "--keep-home", description = "Own server only: keep its temporary home (database, server.log) and print where it is.")
    boolean keepHome;

    // the own server's /metrics, to read its scheduling-cycle histogram; null against --server
    private CycleMetrics metrics;

    @Override
    public void run()
    {
        if (clients < 1 || clients > 1024) {
            throw new ParameterException(spec.commandLine(), "--clients must be in [1, 1024]: got " + clients);
        }
        if (durationSeconds < 1 || durationSeconds > 3600 || warmupSeconds < 0 || warmupSeconds > 600) {
            throw new ParameterException(spec.commandLine(), "--duration must be in [1, 3600] and --warmup in [0, 600]");
        }
        if (maxWarmupSeconds < warmupSeconds || maxWarmupSeconds > 600) {
            throw new ParameterException(spec.commandLine(), "--max-warmup must be in [--warmup (" + warmupSeconds + "), 600]: got " + maxWarmupSeconds);
        }
        if (!output.equals("table") && !output.equals("json")) {
            throw new ParameterException(spec.commandLine(), "--output must be table or json: got " + output);
        }
        if (rates != null) {
            for (int rate : rates) {
                if (rate < 1 || rate > 1_000_000) {
                    throw new ParameterException(spec.commandLine(), "--rate must be in [1, 1000000] submissions per second: got " + rate);
                }
            }
        }
        Path home = null;
        ServerProcess own = null;
        if (preload < 0 || preload > 1_000_000) {
            throw new ParameterException(spec.commandLine(), "--preload must be in [0, 1000000]: got " + preload);
        }
        if (preload > 0 && (server != null || rates == null)) {
            throw new ParameterException(spec.commandLine(), "--preload needs --rate and the benchmark's own server (no --server)");
        }
        try {
            ConnectionSettings target;
            if (server == null) {
                home = Files.createTempDirectory("tranche-bench-");
                String token = new TokenSecrets().newSecret();
                // the benchmark's 32 clients share one token: no rate limit on its own server
                // a JVM of its own, as `./tranche server` runs (with TRANCHE_JAVA_OPTS, as that script passes them)
                own = ServerProcess.start(home, token, javaOptions());
                target = ConnectionSettings.plaintext("127.0.0.1:" + own.grpcPort()).withToken(token);
                metrics = new CycleMetrics(java.net.URI.create("http://127.0.0.1:" + own.httpPort() + "/metrics"), token);
            }
            else {
                String token = System.getenv("TRANCHE_TOKEN");
                if (token == null || token.isBlank()) {
                    throw new ParameterException(spec.commandLine(), "--server needs an admin token in $TRANCHE_TOKEN (and a --rate-limit high enough on that server)");
                }
                target = ConnectionSettings.plaintext(server).withToken(token.strip());
            }
            if (rates == null || rates.isEmpty()) {
                report(measure(target));
            }
            else {
                reportOpenLoop(target);
            }
        }
        catch (IOException e) {
            throw new IllegalStateException("cannot create a temporary home: " + e.getMessage(), e);
        }
        finally {
            if (own != null) {
                own.close();
            }
            if (home != null) {
                if (keepHome) {
                    spec.commandLine().getErr().println("the benchmark's server home (its log: server.log) is kept in " + home);
                }
                else {
                    deleteQuietly(home);
                }
            }
        }
    }

    private static List<String> javaOptions()
    {
        String options = System.getenv("TRANCHE_JAVA_OPTS");
        return options == null || options.isBlank() ? List.of() : List.of(options.strip().split("\\s+"));
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

    record OpenLoopResult(int offeredPerSecond, double seconds, long sent, long acknowledged, long failed, long stored, double achievedPerSecond,
            double p50Millis, double p99Millis, double p999Millis, double maxMillis, Optional<String> firstError)
    {
        OpenLoopResult withStored(long count)
        {
            return new OpenLoopResult(offeredPerSecond, seconds, sent, acknowledged, failed, count, achievedPerSecond, p50Millis, p99Millis, p999Millis, maxMillis,
                    firstError);
        }
    }

    /**
     * One rate as measured: its result; its warm-up (how long, and its latency apart: the seconds right
     * after a change of load, while both JVMs still compile); the p99 of each five measured seconds;
     * what the server and this generator spent over the measured seconds; and the project its
     * submissions went to, counted once every rate is done.
     */
    record OpenLoopRun(OpenLoopResult result, double warmupSeconds, double warmupP50Millis, double warmupP99Millis, double warmupMaxMillis, double[] sliceP99Millis,
            CycleMetrics.Window server, ProcessWork.Delta generator, String project)
    {
        String slices()
        {
            List<String> p99 = new ArrayList<>();
            for (double millis : sliceP99Millis) {
                p99.add(String.format(Locale.ROOT, "%.1f", millis));
            }
            return String.join(" / ", p99);
        }
    }

    /**
     * The highest offered rate that met the target with every lower rate meeting it too: a rate that
     * passes above one that failed is a lucky run, not a sustained rate.
     */
    static Optional<OpenLoopResult> highestSustained(List<OpenLoopResult> results, double targetP99Millis)
    {
        Optional<OpenLoopResult> best = Optional.empty();
        for (OpenLoopResult result : results.stream().sorted(Comparator.comparingInt(OpenLoopResult::offeredPerSecond)).toList()) {
            if (result.p99Millis() >= targetP99Millis || result.failed() > 0) {
                break;
            }
            best = Optional.of(result);
        }
        return best;
    }

    private void reportOpenLoop(ConnectionSettings target)
    {
        PrintWriter out = spec.commandLine().getOut();
        if (output.equals("table")) {
            out.printf(Locale.ROOT, "open loop, asynchronous calls over %d connections, %d s measured per rate after a warm-up of %s; latency from the due time of each submission%n",
                    clients, durationSeconds, maxWarmupSeconds == warmupSeconds ? warmupSeconds + " s"
                            : "at least " + warmupSeconds + " s, until the JIT compilers have settled (at most " + maxWarmupSeconds + " s)");
            out.printf(Locale.ROOT, "%9s %10s %9s %9s %9s %9s %9s%n", "OFFERED/s", "ACHIEVED/s", "P50 ms", "P99 ms", "P99.9 ms", "MAX ms", "FAILED");
            out.flush();
        }
        if (preload > 0) {
            long started = System.nanoTime();
            long loaded = preload(target, preload);
            out.printf(Locale.ROOT, "preloaded %d experiments in %.1f s; waiting for the scheduler to pass over them%n", loaded, (System.nanoTime() - started) / 1e9);
            out.flush();
            sleepSeconds(3);
        }
        List<OpenLoopRun> runs = new ArrayList<>();
        for (int rate : rates) {
            OpenLoopRun run = measureOpenLoop(target, rate);
            runs.add(run);
            if (output.equals("table")) {
                OpenLoopResult result = run.result();
                out.printf(Locale.ROOT, "%9d %10.1f %9.2f %9.2f %9.2f %9.2f %9d%n", result.offeredPerSecond(), result.achievedPerSecond(), result.p50Millis(),
                        result.p99Millis(), result.p999Millis(), result.maxMillis(), result.failed());
                result.firstError().ifPresent(error -> out.println("  first error: " + error));
                if (run.warmupSeconds() > 0) {
                    out.printf(Locale.ROOT, "  its %.1f s of warm-up, not in the figures above: p50 %.2f, p99 %.2f, max %.2f ms%n", run.warmupSeconds(),
                            run.warmupP50Millis(), run.warmupP99Millis(), run.warmupMaxMillis());
                }
                out.printf(Locale.ROOT, "  p99 of each %d measured seconds: %s ms%n", SLICE_SECONDS, run.slices());
                out.printf(Locale.ROOT, "  over the measured seconds: load generator %s%s%n", run.generator().summary(),
                        run.server() == null ? "" : "; server " + run.server().server().summary());
                CycleMetrics.Window window = run.server();
                if (window != null) {
                    out.printf(Locale.ROOT, "  server scheduling cycles meanwhile: %d, mean %.1f ms, p50 <= %s ms, p99 <= %s ms, %.1f%% within 100 ms, %d queued at the end%n",
                            window.cycles(), window.meanMillis(), window.quantileBound(0.50), window.quantileBound(0.99), window.percentWithinTarget(), window.queued());
                    out.printf(Locale.ROOT, "  by phase: %s%n", window.phaseSummary());
                    out.printf(Locale.ROOT, "  the views they decided from (read by the loop's reader meanwhile): %s%n", window.viewSummary());
                }
                out.flush();
            }
        }
        // counted once every rate is done: paging through tens of thousands of experiments between
        // rates would change the server's load (and make its JIT recompile) just before the next one
        List<OpenLoopResult> results = new ArrayList<>();
        try (TrancheClient counter = TrancheClient.connect(target)) {
            for (OpenLoopRun run : runs) {
                results.add(run.result().withStored(count(counter, run.project())));
            }
        }
        Optional<OpenLoopResult> best = highestSustained(results, targetP99Millis);
        if (output.equals("json")) {
            List<String> objects = new ArrayList<>();
            List<String> cycles = new ArrayList<>();
            for (int i = 0; i < runs.size(); i++) {
                OpenLoopResult result = results.get(i);
                OpenLoopRun run = runs.get(i);
                objects.add(String.format(Locale.ROOT, "{\"offered_per_second\": %d, \"achieved_per_second\": %.1f, \"sent\": %d, \"acknowledged\": %d, \"failed\": %d, "
                                + "\"stored\": %d, \"p50_ms\": %.2f, \"p99_ms\": %.2f, \"p999_ms\": %.2f, \"max_ms\": %.2f, "
                                + "\"warmup\": {\"seconds\": %.1f, \"p50_ms\": %.2f, \"p99_ms\": %.2f, \"max_ms\": %.2f}, \"p99_ms_by_%d_s\": [%s], "
                                + "\"generator\": %s, \"server\": %s}",
                        result.offeredPerSecond(), result.achievedPerSecond(), result.sent(), result.acknowledged(), result.failed(), result.stored(),
                        result.p50Millis(), result.p99Millis(), result.p999Millis(), result.maxMillis(), run.warmupSeconds(), run.warmupP50Millis(),
                        run.warmupP99Millis(), run.warmupMaxMillis(), SLICE_SECONDS, run.slices().replace(" / ", ", ").replace("NaN", "null"),
                        run.generator().json(), run.server() == null ? "null" : run.server().server().json()));
                CycleMetrics.Window window = run.server();
                if (window != null) {
                    cycles.add(String.format(Locale.ROOT, "{\"cycles\": %d, \"mean_ms\": %.1f, \"p50_bound_ms\": \"%s\", \"p99_bound_ms\": \"%s\", "
                                    + "\"percent_within_100_ms\": %.1f, \"queued_at_end\": %d, \"phases\": %s, \"view\": %s}",
                            window.cycles(), window.meanMillis(), window.quantileBound(0.50), window.quantileBound(0.99), window.percentWithinTarget(), window.queued(),
                            window.phaseJson(), window.viewJson()));
                }
            }
            out.printf(Locale.ROOT, "{\"mode\": \"open-loop\", \"connections\": %d, \"preload\": %d, \"target_p99_ms\": %.1f, \"highest_sustained_per_second\": %s, \"rates\": [%s], \"server_cycles\": [%s]}%n",
                    clients, preload, targetP99Millis, best.map(result -> Integer.toString(result.offeredPerSecond())).orElse("null"), String.join(", ", objects),
                    String.join(", ", cycles));
        }
        else {
            List<String> stored = new ArrayList<>();
            for (OpenLoopResult result : results) {
                stored.add(result.offeredPerSecond() + "/s: " + (result.stored() == result.acknowledged() ? result.stored() + " = acknowledged"
                        : "MISMATCH " + result.stored() + " != " + result.acknowledged()));
            }
            out.printf(Locale.ROOT, "stored in PostgreSQL (counted after the last rate): %s%n", String.join(", ", stored));
            out.printf(Locale.ROOT, "highest offered rate with p99 under %.0f ms and no failures, every lower rate too: %s%n", targetP99Millis,
                    best.map(result -> result.offeredPerSecond() + "/s").orElse("none of those offered"));
        }
        out.flush();
        for (OpenLoopResult result : results) {
            if (result.stored() != result.acknowledged()) {
                throw new IllegalStateException("acknowledged " + result.acknowledged() + " submissions at " + result.offeredPerSecond() + "/s but " + result.stored() + " are stored");
            }
        }
    }

    /**
     * Offers {@code rate} submissions per second on a fixed schedule: submission i is due at
     * {@code start + i / rate}. One pacing thread sends each one at its due time as an asynchronous
     * call, spread over the connections, and the answer's arrival records the time from due to
     * answered; a sender that falls behind its schedule (or hits the in-flight bound) adds that delay
     * to the latency, so queueing anywhere is counted (no coordinated omission). Asynchronous calls
     * keep the load generator's own CPU small: on a 2-core machine a thread per call took a third of
     * the machine from the server it measures. The first submissions are the warm-up
     * ({@link #endOfWarmup}), recorded apart.
     */
    private OpenLoopRun measureOpenLoop(ConnectionSettings target, int rate)
    {
        String project = "bench-" + UUID.randomUUID().toString().substring(0, 8);
        ExperimentSpec template = ExampleSpec.fashionMnistLenet().toBuilder().setProject(project).build();
        try (TrancheClient admin = TrancheClient.connect(target)) {
            admin.createProject(Project.newBuilder().setName(project).setDescription("tranche bench submit --rate").build());
        }
        List<TrancheClient> connections = new ArrayList<>();
        List<ExperimentServiceGrpc.ExperimentServiceStub> stubs = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            TrancheClient connection = TrancheClient.connect(target);
            connections.add(connection);
            // answers are handled on the transport's thread: recording one is a few hundred nanoseconds
            stubs.add(ExperimentServiceGrpc.newStub(connection.channel()).withExecutor(Runnable::run));
        }
        double periodNanos = 1e9 / rate;
        long measuredCount = (long) durationSeconds * rate;
        AtomicLong acknowledged = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        AtomicReference<String> firstError = new AtomicReference<>();
        // up to one minute, three significant digits; answers arrive on several transport threads
        org.HdrHistogram.Histogram all = new org.HdrHistogram.Histogram(60_000_000_000L, 3);
        org.HdrHistogram.Histogram warm = new org.HdrHistogram.Histogram(60_000_000_000L, 3);
        // the measured seconds again, five at a time: whether the tail is spread or one burst
        org.HdrHistogram.Histogram[] slices = new org.HdrHistogram.Histogram[(durationSeconds + SLICE_SECONDS - 1) / SLICE_SECONDS];
        for (int k = 0; k < slices.length; k++) {
            slices[k] = new org.HdrHistogram.Histogram(60_000_000_000L, 2);
        }
        Semaphore inFlight = new Semaphore(MAX_IN_FLIGHT);
        long start = System.nanoTime() + 50_000_000L;
        // The first submission measured, decided by the thread below once the warm-up is over; until
        // then far beyond any index the loop reaches. That thread also reads what the server and this
        // JVM had spent at that moment, so that the sending loop keeps its schedule.
        AtomicLong measureFrom = new AtomicLong(Long.MAX_VALUE / 4);
        AtomicReference<CycleMetrics.Snapshot> serverBefore = new AtomicReference<>();
        AtomicReference<ProcessWork> generatorBefore = new AtomicReference<>();
        AtomicReference<RuntimeException> boundaryFailure = new AtomicReference<>();
        Thread boundary = new Thread(() -> {
            try {
                long first = endOfWarmup(start, periodNanos);
                measureFrom.set(first);
                parkUntil(start + (long) (first * periodNanos));
                generatorBefore.set(ProcessWork.ofThisJvm());
                if (metrics != null) {
                    serverBefore.set(metrics.read());
                }
            }
            catch (RuntimeException e) {
                boundaryFailure.set(e);
                // the loop must still end
                measureFrom.compareAndSet(Long.MAX_VALUE / 4, 0);
            }
        }, "bench-measure-start");
        boundary.setDaemon(true);
        boundary.start();
        long sent = 0;
        try {
            for (long i = 0; i < measureFrom.get() + measuredCount; i++) {
                long due = start + (long) (i * periodNanos);
                parkUntil(due);
                inFlight.acquire();
                long firstMeasured = measureFrom.get();
                boolean measured = i >= firstMeasured;
                org.HdrHistogram.Histogram slice = measured ? slices[(int) Math.min(slices.length - 1, (i - firstMeasured) / ((long) SLICE_SECONDS * rate))] : null;
                SubmitExperimentRequest request = SubmitExperimentRequest.newBuilder()
                        .setSpec(template.toBuilder().setName("bench-" + i))
                        .setRequestId(UUID.randomUUID().toString())
                        .build();
                sent++;
                stubs.get((int) (i % stubs.size())).withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                        .submit(request, new StreamObserver<>()
                        {
                            @Override
                            public void onNext(SubmitExperimentResponse response)
                            {
                                long latency = System.nanoTime() - due;
                                acknowledged.incrementAndGet();
                                org.HdrHistogram.Histogram into = measured ? all : warm;
                                synchronized (into) {
                                    into.recordValue(Math.max(0, Math.min(latency, into.getHighestTrackableValue())));
                                    if (slice != null) {
                                        slice.recordValue(Math.max(0, Math.min(latency, slice.getHighestTrackableValue())));
                                    }
                                }
                            }

                            @Override
                            public void onError(Throwable error)
                            {
                                failed.incrementAndGet();
                                firstError.compareAndSet(null, Status.fromThrowable(error).toString());
                                inFlight.release();
                            }

                            @Override
                            public void onCompleted()
                            {
                                inFlight.release();
                            }
                        });
            }
            // every call answered (or failed by its deadline)
            inFlight.acquire(MAX_IN_FLIGHT);
            boundary.join();
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
        if (boundaryFailure.get() != null) {
            throw boundaryFailure.get();
        }
        ProcessWork.Delta generator = ProcessWork.ofThisJvm().since(generatorBefore.get());
        CycleMetrics.Window server = metrics == null ? null : metrics.read().since(serverBefore.get());
        double warmedSeconds = measureFrom.get() * periodNanos / 1e9;
        double measuredSeconds = (System.nanoTime() - start) / 1e9 - warmedSeconds;
        connections.forEach(TrancheClient::close);
        boolean any = all.getTotalCount() > 0;
        boolean anyWarm = warm.getTotalCount() > 0;
        OpenLoopResult result = new OpenLoopResult(rate, durationSeconds, sent, acknowledged.get(), failed.get(), -1, all.getTotalCount() / Math.max(measuredSeconds, 1e-9),
                any ? all.getValueAtPercentile(50) / 1e6 : Double.NaN, any ? all.getValueAtPercentile(99) / 1e6 : Double.NaN,
                any ? all.getValueAtPercentile(99.9) / 1e6 : Double.NaN, any ? all.getMaxValue() / 1e6 : Double.NaN, Optional.ofNullable(firstError.get()));
        double[] sliceP99 = new double[slices.length];
        for (int k = 0; k < slices.length; k++) {
            sliceP99[k] = slices[k].getTotalCount() > 0 ? slices[k].getValueAtPercentile(99) / 1e6 : Double.NaN;
        }
        return new OpenLoopRun(result, warmedSeconds, anyWarm ? warm.getValueAtPercentile(50) / 1e6 : Double.NaN,
                anyWarm ? warm.getValueAtPercentile(99) / 1e6 : Double.NaN, anyWarm ? warm.getMaxValue() / 1e6 : Double.NaN, sliceP99, server, generator, project);
    }

    /**
     * Waits out the warm-up of a rate that started at {@code start}: at least --warmup seconds, then
     * until the JIT compilers have settled (the server's, read from its /metrics, and this JVM's), for
     * at most --max-warmup seconds in all. Returns the index of the first submission to measure, one
     * due a moment from now, so that no submission already sent is counted.
     */
    private long endOfWarmup(long start, double periodNanos)
    {
        parkUntil(start + (long) warmupSeconds * 1_000_000_000L);
        long last = start + (long) maxWarmupSeconds * 1_000_000_000L;
        java.util.ArrayDeque<long[]> readings = new java.util.ArrayDeque<>();
        while (System.nanoTime() < last) {
            long now = System.nanoTime();
            long serverJit = metrics == null ? 0 : Math.max(0, metrics.read().server().jitMillis());
            readings.addLast(new long[] {now, serverJit, Math.max(0, ProcessWork.ofThisJvm().jitMillis())});
            if (readings.size() > SETTLE_SECONDS + 1) {
                readings.removeFirst();
            }
            if (readings.size() == SETTLE_SECONDS + 1) {
                long[] first = readings.getFirst();
                long[] latest = readings.getLast();
                double budget = SETTLED_JIT_SHARE * (latest[0] - first[0]) / 1e6;
                if (latest[1] - first[1] <= budget && latest[2] - first[2] <= budget) {
                    break;
                }
            }
            parkUntil(now + 1_000_000_000L);
        }
        return (long) Math.ceil((System.nanoTime() + 20_000_000L - start) / periodNanos);
    }

    private static void parkUntil(long nanoTime)
    {
        long wait = nanoTime - System.nanoTime();
        while (wait > 0) {
            java.util.concurrent.locks.LockSupport.parkNanos(wait);
            wait = nanoTime - System.nanoTime();
        }
    }

    private static final int SLICE_SECONDS = 5;
    // settled: each JIT compiled for at most 5% of the time over the last 3 s
    private static final int SETTLE_SECONDS = 3;
    private static final double SETTLED_JIT_SHARE = 0.05;
    /** Open loop: calls outstanding at once, a bound on the load generator's memory, far above what a healthy server needs. */
    private static final int MAX_IN_FLIGHT = 20_000;
    private static final Duration CALL_DEADLINE = Duration.ofSeconds(60);

    /** Projects of the preloaded backlog. */
    static final int PRELOAD_PROJECTS = 10;

    /**
     * The preloaded backlog is varied as a shared cluster's would be: 10 projects, each with six
     * requests (a quarter and a half GPU, 1, 2 and 4 GPUs, a gang of two 1-GPU replicas) at two
     * priorities, so the queue has 120 lines of alike work.
     */
    static ExperimentSpec preloadSpec(ExperimentSpec template, String projectPrefix, long i)
    {
        dev.tranche.proto.v1.GpuRequest.Builder gpu = dev.tranche.proto.v1.GpuRequest.newBuilder();
        int replicas = 1;
        switch ((int) (i / PRELOAD_PROJECTS % 6)) {
            case 0 -> gpu.setFraction(0.25);
            case 1 -> gpu.setFraction(0.5);
            case 2 -> gpu.setCount(1);
            case 3 -> gpu.setCount(2);
            case 4 -> gpu.setCount(4);
            default -> {
                gpu.setCount(1);
                replicas = 2;
            }
        }
        return template.toBuilder()
                .setProject(projectPrefix + "-" + (i % PRELOAD_PROJECTS))
                .setName("backlog-" + i)
                .setReplicas(replicas)
                .setPriority(i / (PRELOAD_PROJECTS * 6) % 2 == 0 ? "normal" : "high")
                .setResources(template.getResources().toBuilder().setGpu(gpu))
                .build();
    }

    /** Submits {@code total} experiments as fast as the clients can (closed loop); returns how many were acknowledged. */
    private long preload(ConnectionSettings target, int total)
    {
        String project = "backlog-" + UUID.randomUUID().toString().substring(0, 8);
        ExperimentSpec template = ExampleSpec.fashionMnistLenet();
        try (TrancheClient admin = TrancheClient.connect(target)) {
            for (int p = 0; p < PRELOAD_PROJECTS; p++) {
                admin.createProject(Project.newBuilder().setName(project + "-" + p).setDescription("tranche bench submit --preload").build());
            }
        }
        AtomicLong next = new AtomicLong();
        AtomicLong acknowledged = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        List<TrancheClient> connections = new ArrayList<>();
        for (int t = 0; t < clients; t++) {
            TrancheClient client = TrancheClient.connect(target);
            connections.add(client);
            Thread thread = new Thread(() -> {
                long i;
                while ((i = next.getAndIncrement()) < total) {
                    try {
                        client.submit(preloadSpec(template, project, i), UUID.randomUUID().toString());
                        acknowledged.incrementAndGet();
                    }
                    catch (StatusRuntimeException e) {
                        // counted by what is missing from acknowledged
                    }
                }
            }, "bench-preload-" + t);
            threads.add(thread);
            thread.start();
        }
        for (Thread thread : threads) {
            try {
                thread.join();
            }
            catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
        }
        connections.forEach(TrancheClient::close);
        return acknowledged.get();
    }

    private static void sleepSeconds(int seconds)
    {
        try {
            Thread.sleep(seconds * 1000L);
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
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

package dev.tranche.scheduler.server;

import dev.tranche.client.ConnectionSettings;
import dev.tranche.client.TrancheClient;
import dev.tranche.proto.v1.Experiment;
import dev.tranche.proto.v1.ListExperimentsRequest;
import dev.tranche.proto.v1.ListExperimentsResponse;
import dev.tranche.scheduler.testing.SchedulerProcess;
import dev.tranche.scheduler.testing.Specs;
import dev.tranche.scheduler.testing.TestingScheduler;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The scheduler's embedded PostgreSQL is killed with SIGKILL while clients submit. The scheduler
 * starts it again and serves within 30 s; meanwhile calls fail at once as UNAVAILABLE saying the
 * database is unavailable, /healthz (and /readyz) answers 503 within a second, while /livez, the
 * liveness probe, keeps answering 200: an outage of the database restarts no scheduler. Every acknowledged experiment
 * is there afterwards, once. Killed again, SIGTERM stops the scheduler within 5 s, its PostgreSQL
 * with it.
 */
final class EmbeddedDatabaseFaultTest
{
    private static final Duration HEALTH_DEADLINE = Duration.ofSeconds(1);

    @TempDir
    Path dir;

    /** A call that failed: when (since the kill), how, and how long it took to fail. */
    private record Failure(long atMillis, Status.Code code, String message, long tookMillis) {}

    /** One /healthz answer: when (since the kill), what, how long it took; status 0 when it did not answer in time. */
    private record Probe(long atMillis, int status, String body, long tookMillis) {}

    @Test
    void aKilledEmbeddedPostgresIsRestartedAndNothingAcknowledgedIsLost()
            throws Exception
    {
        Path home = dir.resolve("home");
        try (SchedulerProcess scheduler = SchedulerProcess.start(home, SchedulerProcess.freePort(), SchedulerProcess.freePort(), dir.resolve("scheduler.log"),
                Map.of("TRANCHE_ADMIN_TOKEN", TestingScheduler.ADMIN_TOKEN), "--rate-limit", "0").awaitServing(Duration.ofSeconds(120))) {
            Map<String, String> acknowledged = new ConcurrentHashMap<>();
            List<Failure> failures = new CopyOnWriteArrayList<>();
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong killedAt = new AtomicLong(Long.MAX_VALUE);
            List<Thread> submitters = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int thread = t;
                Thread submitter = new Thread(() -> {
                    try (TrancheClient client = client(scheduler)) {
                        for (int i = 0; !stop.get(); i++) {
                            String name = "load-" + thread + "-" + i;
                            long started = System.nanoTime();
                            try {
                                Experiment experiment = client.submit(Specs.named(name, "default")).getExperiment();
                                acknowledged.put(experiment.getId(), name);
                            }
                            catch (StatusRuntimeException e) {
                                failures.add(new Failure(TimeUnit.NANOSECONDS.toMillis(started - killedAt.get()), e.getStatus().getCode(),
                                        String.valueOf(e.getStatus().getDescription()), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)));
                                sleep(20);
                            }
                        }
                    }
                }, "submitter-" + t);
                submitter.start();
                submitters.add(submitter);
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> acknowledged.size() >= 150);
            assertThat(failures).as("no call fails before the kill").isEmpty();

            // /healthz from the kill until it is healthy again, each probe with a 1 s deadline
            HttpClient http = HttpClient.newBuilder().build();
            // the first request of all warms up the HTTP server (and this client): not what is measured
            await().atMost(Duration.ofSeconds(30)).until(() -> probe(http, scheduler, "/healthz", System.nanoTime(), Duration.ofSeconds(10)).status() == 200);
            List<Probe> probes = new ArrayList<>();
            List<Probe> liveness = new ArrayList<>();

            ProcessHandle postmaster = postmaster(home).orElseThrow();
            killedAt.set(System.nanoTime());
            postmaster.destroyForcibly();
            long deadline = killedAt.get() + TimeUnit.SECONDS.toNanos(45);
            boolean sawOutage = false;
            while (System.nanoTime() < deadline) {
                Probe probe = probe(http, scheduler, "/healthz", killedAt.get(), HEALTH_DEADLINE);
                probes.add(probe);
                liveness.add(probe(http, scheduler, "/livez", killedAt.get(), HEALTH_DEADLINE));
                sawOutage |= probe.status() == 503;
                if (sawOutage && probe.status() == 200) {
                    break;
                }
                sleep(100);
            }
            long healthyAfter = probes.get(probes.size() - 1).atMillis();
            // service is back: a submission made now is acknowledged
            int before = acknowledged.size();
            await().atMost(Duration.ofSeconds(30)).until(() -> acknowledged.size() > before + 20);
            long servingAfter = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt.get());
            stop.set(true);
            for (Thread submitter : submitters) {
                submitter.join(30_000);
            }

            String log = scheduler.output();
            assertThat(sawOutage).as("/healthz said 503 while the database was down: " + probes + "\n" + log).isTrue();
            assertThat(probes).as("every /healthz answered within 1 s").allSatisfy(probe -> assertThat(probe.tookMillis()).isLessThan(HEALTH_DEADLINE.toMillis()));
            assertThat(liveness).as("/livez answered 200 all through the outage").allSatisfy(probe -> assertThat(probe.status()).as(probe.toString()).isEqualTo(200));
            assertThat(probes).filteredOn(probe -> probe.status() == 503).allSatisfy(probe -> assertThat(probe.body()).startsWith("database unavailable: "));
            assertThat(healthyAfter).as("healthy again within 30 s of the kill").isLessThan(30_000);
            assertThat(servingAfter).as("serving again within 30 s of the kill").isLessThan(30_000);
            // while it was down, calls failed as UNAVAILABLE, saying why, at once
            assertThat(failures).as(log).isNotEmpty().allSatisfy(failure -> {
                assertThat(failure.code()).as(failure.toString()).isEqualTo(Status.Code.UNAVAILABLE);
                assertThat(failure.message()).as(failure.toString()).startsWith("the database is unavailable").endsWith("retry in a few seconds");
            });
            long fastFailures = failures.stream().filter(failure -> failure.tookMillis() < 1000).count();
            assertThat(fastFailures).as(failures.toString()).isGreaterThan(0);

            // every acknowledged experiment is there, once
            Map<String, Integer> seen = new HashMap<>();
            Map<String, Integer> names = new HashMap<>();
            try (TrancheClient client = client(scheduler)) {
                String token = "";
                do {
                    ListExperimentsResponse page = client.list(ListExperimentsRequest.newBuilder().setPageSize(1000).setPageToken(token).build());
                    page.getExperimentsList().forEach(experiment -> {
                        seen.merge(experiment.getId(), 1, Integer::sum);
                        names.merge(experiment.getSpec().getName(), 1, Integer::sum);
                    });
                    token = page.getNextPageToken();
                }
                while (!token.isEmpty());
            }
            acknowledged.forEach((id, name) -> {
                assertThat(seen.get(id)).as(id).isEqualTo(1);
                assertThat(names.get(name)).as(name).isEqualTo(1);
            });
            assertThat(log).contains("embedded PostgreSQL restarted");

            // killed again, and the scheduler stopped while its database is down: quickly, PostgreSQL included
            ProcessHandle second = postmaster(home).orElseThrow();
            second.destroyForcibly();
            sleep(100);
            Duration shutdown = scheduler.terminate();
            assertThat(shutdown).as(scheduler.output()).isLessThan(Duration.ofSeconds(5));
            Optional<ProcessHandle> left = postmaster(home);
            assertThat(left).as("no PostgreSQL left running after the scheduler stopped").isEmpty();

            System.out.printf("fault: embedded PostgreSQL killed under submit load (%d acknowledged, all present once); /healthz 503 after %d ms, "
                            + "healthy after %.1f s, submissions acknowledged again after %.1f s; %d calls failed meanwhile, all UNAVAILABLE, %d of them within 1 s "
                            + "(slowest %d ms); slowest /healthz %d ms; SIGTERM during a second outage took %.1f s%n",
                    acknowledged.size(), probes.stream().filter(probe -> probe.status() == 503).findFirst().map(Probe::atMillis).orElse(-1L),
                    healthyAfter / 1000.0, servingAfter / 1000.0, failures.size(), fastFailures,
                    failures.stream().mapToLong(Failure::tookMillis).max().orElse(0), probes.stream().mapToLong(Probe::tookMillis).max().orElse(0),
                    shutdown.toMillis() / 1000.0);
        }
    }

    private static Probe probe(HttpClient http, SchedulerProcess scheduler, String path, long killedAt, Duration timeout)
    {
        long started = System.nanoTime();
        long at = TimeUnit.NANOSECONDS.toMillis(started - killedAt);
        try {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + scheduler.httpPort() + path))
                    .timeout(timeout).build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            return new Probe(at, response.statusCode(), response.body(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
        }
        catch (IOException e) {
            return new Probe(at, 0, e.toString(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The embedded PostgreSQL's postmaster, from its postmaster.pid. */
    private static Optional<ProcessHandle> postmaster(Path home)
            throws IOException
    {
        Path pidFile = home.resolve("postgres").resolve("postmaster.pid");
        if (!Files.exists(pidFile)) {
            return Optional.empty();
        }
        long pid = Long.parseLong(Files.readAllLines(pidFile).get(0).strip());
        return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).filter(process -> process.info().command().orElse("").contains("postgres"));
    }

    private static TrancheClient client(SchedulerProcess scheduler)
    {
        return TrancheClient.connect(ConnectionSettings.plaintext("127.0.0.1:" + scheduler.grpcPort()).withToken(TestingScheduler.ADMIN_TOKEN));
    }

    private static void sleep(long millis)
    {
        try {
            Thread.sleep(millis);
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

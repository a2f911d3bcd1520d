package dev.tranche.scheduler.cli;

import com.google.gson.JsonParser;
import dev.tranche.cli.Tranche;
import dev.tranche.client.TrancheClient;
import dev.tranche.proto.v1.ExperimentSpec;
import dev.tranche.proto.v1.GpuRequest;
import dev.tranche.proto.v1.Project;
import dev.tranche.scheduler.core.model.GpuRequest.Kind;
import dev.tranche.scheduler.experiment.ExperimentState;
import dev.tranche.scheduler.security.Role;
import dev.tranche.scheduler.simulation.TraceJob;
import dev.tranche.scheduler.simulation.TraceReader;
import dev.tranche.scheduler.store.ExperimentRepository;
import dev.tranche.scheduler.testing.CliRun;
import dev.tranche.scheduler.testing.Specs;
import dev.tranche.scheduler.testing.TestingScheduler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import static dev.tranche.scheduler.experiment.ExperimentState.PENDING;
import static dev.tranche.scheduler.experiment.ExperimentState.PREEMPTED;
import static dev.tranche.scheduler.experiment.ExperimentState.RUNNING;
import static dev.tranche.scheduler.experiment.ExperimentState.SCHEDULED;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * `tranche history export` through the real server and PostgreSQL: what ran comes back as a trace
 * that `tranche simulate --format tranche` reads, with run time summed over attempts.
 */
final class HistoryExportCliTest
{
    private static final Instant BASE = Instant.parse("2026-11-02T08:00:00Z");

    private TestingScheduler scheduler;
    private TrancheClient client;
    private ExperimentRepository repository;

    @TempDir
    Path files;

    private String preemptedThenDone;
    private String failed;
    private String byMemory;

    @BeforeEach
    void start()
            throws SQLException
    {
        // no inventory: nothing is placed on its own, the test moves every experiment itself
        scheduler = new TestingScheduler(Optional.empty());
        client = scheduler.client();
        repository = new ExperimentRepository(scheduler.dataSource());
        client.createProject(Project.newBuilder().setName("vision").build());
        client.createProject(Project.newBuilder().setName("speech").build());

        preemptedThenDone = submit(gpus(Specs.named("gang", "vision").toBuilder().setReplicas(2).setPriority("high").build(), GpuRequest.newBuilder().setFraction(0.5)));
        move(preemptedThenDone, SCHEDULED, RUNNING, PREEMPTED, PENDING, SCHEDULED, RUNNING, ExperimentState.SUCCEEDED);
        failed = submit(gpus(Specs.named("whole", "speech"), GpuRequest.newBuilder().setCount(2)));
        move(failed, SCHEDULED, RUNNING, ExperimentState.FAILED);
        byMemory = submit(gpus(Specs.named("memory", "vision"), GpuRequest.newBuilder().setMemoryMib(20_480)));
        move(byMemory, SCHEDULED, RUNNING, ExperimentState.SUCCEEDED);
        String neverRan = submit(Specs.named("never-ran", "vision"));
        move(neverRan, ExperimentState.CANCELLED);
        String stillRunning = submit(Specs.named("still-running", "vision"));
        move(stillRunning, SCHEDULED, RUNNING);

        // each experiment: submitted an hour apart, each of its transitions 100 s after the one before
        List<String> ids = List.of(preemptedThenDone, failed, byMemory, neverRan, stillRunning);
        for (int i = 0; i < ids.size(); i++) {
            retime(ids.get(i), BASE.plusSeconds(3600L * i));
        }
    }

    @AfterEach
    void stop()
    {
        scheduler.close();
    }

    @Test
    void whatRanComesBackAsATraceThatSimulateReads()
            throws IOException
    {
        Path trace = files.resolve("history.csv");
        CliRun run = tranche(TestingScheduler.ADMIN_TOKEN, "history", "export", "--file", trace.toString());
        assertThat(run.code()).as(run.err()).isZero();
        assertThat(run.err()).contains("left out 1 experiment that asked for GPU memory or no GPU");
        assertThat(Files.readAllLines(trace)).containsExactly(
                "arrival,project,replicas,gpus,duration,priority",
                "2026-11-02T08:00:00Z,vision,2,0.5,200.000,75",
                "2026-11-02T09:00:00Z,speech,1,2,100.000,50");

        List<TraceJob> jobs = TraceReader.tranche(trace);
        assertThat(jobs).hasSize(2);
        assertThat(jobs.get(0).project()).isEqualTo("vision");
        assertThat(jobs.get(0).replicas()).isEqualTo(2);
        assertThat(jobs.get(0).gpu().milli()).isEqualTo(500);
        assertThat(jobs.get(0).durationSeconds()).isEqualTo(200.0);
        assertThat(jobs.get(1).arrivalSecond()).isEqualTo(3600);
        assertThat(jobs.get(1).gpu().kind()).isEqualTo(Kind.WHOLE);
        assertThat(jobs.get(1).gpu().count()).isEqualTo(2);

        CliRun json = tranche(TestingScheduler.ADMIN_TOKEN, "history", "export", "-o", "json");
        assertThat(json.out().lines()).hasSize(3);
        assertThat(json.out().lines().toList().get(2)).contains("\"experiment_id\":\"" + byMemory + "\"", "\"gpu_memory_mib\":\"20480\"", "\"final_state\":\"SUCCEEDED\"");
    }

    @Test
    void aMemberExportsOnlyTheirProjectsAndTheWindowIsHalfOpen()
    {
        String speech = scheduler.token(Role.MEMBER, "speech");
        CliRun mine = tranche(speech, "history", "export");
        assertThat(mine.out().lines()).containsExactly("arrival,project,replicas,gpus,duration,priority", "2026-11-02T09:00:00Z,speech,1,2,100.000,50");

        CliRun window = tranche(TestingScheduler.ADMIN_TOKEN, "history", "export", "--since", "2026-11-02T09:00:00Z", "--until", "2026-11-02T10:00:00Z");
        assertThat(window.out().lines()).containsExactly("arrival,project,replicas,gpus,duration,priority", "2026-11-02T09:00:00Z,speech,1,2,100.000,50");
        assertThat(tranche(TestingScheduler.ADMIN_TOKEN, "history", "export", "--since", "2026-11-03").out().lines()).containsExactly(
                "arrival,project,replicas,gpus,duration,priority");
    }

    @Test
    void badWindowsAreRefusedWithWhatIsAcceptedAndNoFileIsLeftHalfWritten()
            throws IOException
    {
        CliRun bad = tranche(TestingScheduler.ADMIN_TOKEN, "history", "export", "--since", "last tuesday");
        assertThat(bad.code()).isEqualTo(Tranche.EXIT_USAGE);
        assertThat(bad.err()).contains("--since must be an instant (2026-11-01T08:00:00Z), a day (2026-11-01) or how long ago (30d, 12h): got 'last tuesday'");

        Path trace = files.resolve("kept.csv");
        Files.writeString(trace, "the previous export\n");
        CliRun backwards = tranche(TestingScheduler.ADMIN_TOKEN, "history", "export", "--since", "2026-11-03", "--until", "2026-11-02", "--file", trace.toString());
        assertThat(backwards.code()).isNotZero();
        assertThat(backwards.err()).contains("since must be before until");
        assertThat(Files.readString(trace)).isEqualTo("the previous export\n");
        try (var left = Files.list(files)) {
            assertThat(left.map(path -> path.getFileName().toString()).toList()).containsExactly("kept.csv");
        }
    }

    /** The HTTP API serves the same trace (one row format for both) with the same access rules and refusals. */
    @Test
    void theHttpApiServesTheSameTraceToWhoMayReadIt()
            throws IOException, InterruptedException
    {
        HttpResponse<String> all = get(TestingScheduler.ADMIN_TOKEN, "/api/v1/history");
        assertThat(all.statusCode()).as(all.body()).isEqualTo(200);
        assertThat(all.headers().firstValue("Content-Type")).hasValueSatisfying(type -> assertThat(type).startsWith("text/csv"));
        assertThat(all.headers().firstValue("X-Tranche-Left-Out")).contains("1");
        assertThat(all.body()).isEqualTo(tranche(TestingScheduler.ADMIN_TOKEN, "history", "export").out());
        assertThat(all.body().lines()).hasSize(3);

        HttpResponse<String> mine = get(scheduler.token(Role.MEMBER, "speech"), "/api/v1/history?since=2026-11-02");
        assertThat(mine.body().lines()).containsExactly("arrival,project,replicas,gpus,duration,priority", "2026-11-02T09:00:00Z,speech,1,2,100.000,50");

        HttpResponse<String> json = get(TestingScheduler.ADMIN_TOKEN, "/api/v1/history?format=json&until=2026-11-02T10:00:00Z");
        assertThat(json.statusCode()).isEqualTo(200);
        assertThat(JsonParser.parseString(json.body()).getAsJsonObject().getAsJsonArray("jobs")).hasSize(2);

        HttpResponse<String> badSince = get(TestingScheduler.ADMIN_TOKEN, "/api/v1/history?since=last%20tuesday");
        assertThat(badSince.statusCode()).isEqualTo(400);
        assertThat(badSince.body()).contains("since must be an instant (2026-11-01T08:00:00Z) or a day (2026-11-01, UTC): got \\\"last tuesday\\\"");
        HttpResponse<String> badFormat = get(TestingScheduler.ADMIN_TOKEN, "/api/v1/history?format=xml");
        assertThat(badFormat.statusCode()).isEqualTo(400);
        assertThat(badFormat.body()).contains("format must be csv or json");
        HttpResponse<String> backwards = get(TestingScheduler.ADMIN_TOKEN, "/api/v1/history?since=2026-11-03&until=2026-11-02");
        assertThat(backwards.statusCode()).isEqualTo(400);
        assertThat(backwards.body()).contains("since must be before until");
        assertThat(get("", "/api/v1/history").statusCode()).isEqualTo(401);
        HttpResponse<String> hostile = get(TestingScheduler.ADMIN_TOKEN, "/api/v1/history?project=" + "x".repeat(5_000));
        assertThat(hostile.statusCode()).isEqualTo(400);
        assertThat(hostile.body()).contains("project");
        // each answer went through a temporary file of its own, gone once sent or refused
        try (var left = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            assertThat(left.map(path -> path.getFileName().toString()).filter(name -> name.startsWith("tranche-history-"))).isEmpty();
        }
    }

    private HttpResponse<String> get(String token, String path)
            throws IOException, InterruptedException
    {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + scheduler.httpPort() + path)).timeout(Duration.ofSeconds(30));
        if (!token.isEmpty()) {
            request.header("Authorization", "Bearer " + token);
        }
        return HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private String submit(ExperimentSpec spec)
    {
        return client.submit(spec).getExperiment().getId();
    }

    private static ExperimentSpec gpus(ExperimentSpec spec, GpuRequest.Builder gpu)
    {
        return spec.toBuilder().setResources(spec.getResources().toBuilder().setGpu(gpu)).build();
    }

    private void move(String id, ExperimentState... states)
    {
        ExperimentState from = PENDING;
        for (ExperimentState to : states) {
            repository.transition(id, Set.of(from), to, "moved by the test");
            from = to;
        }
    }

    private void retime(String id, Instant submitted)
            throws SQLException
    {
        try (Connection connection = scheduler.dataSource().getConnection();
                PreparedStatement experiment = connection.prepareStatement("UPDATE experiments SET created_at = ? WHERE id = ?");
                PreparedStatement transitions = connection.prepareStatement("UPDATE experiment_transitions t SET at = ?::timestamptz + s.k * interval '100 seconds'"
                        + " FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM experiment_transitions WHERE experiment_id = ?) s WHERE t.id = s.id")) {
            experiment.setTimestamp(1, Timestamp.from(submitted));
            experiment.setString(2, id);
            assertThat(experiment.executeUpdate()).isEqualTo(1);
            transitions.setTimestamp(1, Timestamp.from(submitted));
            transitions.setString(2, id);
            assertThat(transitions.executeUpdate()).isPositive();
        }
    }

    private CliRun tranche(String token, String... args)
    {
        try {
            Path tokenFile = Files.createTempFile(files, "token", "");
            Files.writeString(tokenFile, token);
            List<String> all = new ArrayList<>(List.of(args));
            all.addAll(List.of("--server", scheduler.target(), "--token-file", tokenFile.toString()));
            CliRun run = CliRun.of(all);
            Files.delete(tokenFile);
            return run;
        }
        catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}

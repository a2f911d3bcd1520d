package dev.tranche.scheduler.service;

import com.google.protobuf.Timestamp;
import dev.tranche.client.TrancheClient;
import dev.tranche.proto.v1.GetMetricsRequest;
import dev.tranche.proto.v1.ListExperimentsRequest;
import dev.tranche.proto.v1.ListExperimentsResponse;
import dev.tranche.proto.v1.MetricBatch;
import dev.tranche.proto.v1.MetricPoint;
import dev.tranche.proto.v1.ReportAck;
import dev.tranche.scheduler.testing.MetricStreams;
import dev.tranche.scheduler.testing.Specs;
import dev.tranche.scheduler.testing.TestingScheduler;
import io.grpc.Status;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Metric streams from workers into PostgreSQL, over real gRPC, with per-experiment credentials. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
final class MetricsServiceTest
{
    private TestingScheduler scheduler;
    private TrancheClient client;

    @BeforeAll
    void start()
    {
        scheduler = new TestingScheduler();
        client = scheduler.client();
    }

    @AfterAll
    void stop()
    {
        scheduler.close();
    }

    @Test
    void storesStreamedBatchesAndAResumedStepReplacesItsFirstValue()
            throws Exception
    {
        String id = submit("streamed");
        String credential = scheduler.server().workerCredential(id);
        ReportAck ack = report(List.of(
                batch(id, credential, points("loss", 1, 1, 100, 2.0)),
                batch(id, credential, points("loss", 1, 101, 200, 1.0)),
                batch(id, credential, List.of(point("test_accuracy", 1, 200, 0.81)))));
        assertThat(ack.getStored()).isEqualTo(201);
        // killed in epoch 2 at step 250, resumed from the epoch-1 checkpoint: steps 201..300 come again
        report(List.of(batch(id, credential, points("loss", 2, 201, 250, 0.9))));
        report(List.of(batch(id, credential, points("loss", 2, 201, 300, 0.5)), batch(id, credential, List.of(point("test_accuracy", 2, 300, 0.86)))));

        assertThat(scheduler.count("SELECT count(*) FROM metrics WHERE experiment_id = '" + id + "'")).isEqualTo(302);
        assertThat(scheduler.count("SELECT count(*) FROM metrics WHERE experiment_id = '" + id + "' AND name = 'loss' AND step BETWEEN 201 AND 250 AND value = 0.5"))
                .isEqualTo(50);
        List<MetricPoint> accuracy = client.metrics(GetMetricsRequest.newBuilder().setExperimentId(id).addNames("test_accuracy").build()).getPointsList();
        assertThat(accuracy).extracting(MetricPoint::getEpoch).containsExactly(1, 2);
        List<MetricPoint> latest = client.metrics(GetMetricsRequest.newBuilder().setExperimentId(id).setLatestOnly(true).build()).getPointsList();
        assertThat(latest).extracting(MetricPoint::getName).containsExactly("loss", "test_accuracy");
        assertThat(latest.get(0).getStep()).isEqualTo(300);
        List<MetricPoint> after = client.metrics(GetMetricsRequest.newBuilder().setExperimentId(id).addNames("loss").setAfterStep(290).build()).getPointsList();
        assertThat(after).extracting(MetricPoint::getStep).containsExactly(291L, 292L, 293L, 294L, 295L, 296L, 297L, 298L, 299L, 300L);
        // the list answer carries each experiment's progress (the dashboard's queue shows it)
        String silent = submit("silent");
        ListExperimentsResponse page = client.list(ListExperimentsRequest.newBuilder().setProject("default").build());
        assertThat(page.getExperimentsList()).extracting(experiment -> experiment.getId()).contains(id, silent);
        assertThat(page.getEpochsReportedMap()).containsEntry(id, 2).doesNotContainKey(silent);
        // the JSON API answers the same, through the same gRPC call
        java.net.http.HttpResponse<String> json = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + scheduler.httpPort() + "/api/v1/experiments?project=default"))
                        .header("Authorization", "Bearer " + TestingScheduler.ADMIN_TOKEN).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(json.statusCode()).isEqualTo(200);
        com.google.gson.JsonObject progress = com.google.gson.JsonParser.parseString(json.body()).getAsJsonObject().getAsJsonObject("epochs_reported");
        assertThat(progress.get(id).getAsInt()).isEqualTo(2);
        assertThat(progress.has(silent)).isFalse();
    }

    @Test
    void aCredentialIsGoodForItsOwnExperimentOnly()
    {
        String mine = submit("mine");
        String other = submit("other");
        assertReportFails(List.of(batch(other, scheduler.server().workerCredential(mine), points("loss", 1, 1, 10, 1.0))), Status.Code.PERMISSION_DENIED,
                "the credential is not valid for experiment " + other);
        assertReportFails(List.of(batch(mine, "tw1.forged", points("loss", 1, 1, 10, 1.0))), Status.Code.PERMISSION_DENIED, "not valid");
        assertReportFails(List.of(batch(mine, "", points("loss", 1, 1, 10, 1.0))), Status.Code.UNAUTHENTICATED, "a worker credential is required");
        // switching experiments in the middle of a stream is refused too
        assertReportFails(List.of(batch(mine, scheduler.server().workerCredential(mine), points("loss", 1, 1, 10, 1.0)),
                batch(other, scheduler.server().workerCredential(mine), points("loss", 1, 11, 20, 1.0))), Status.Code.INVALID_ARGUMENT, "experiment_id must stay " + mine);
        assertThat(scheduler.count("SELECT count(*) FROM metrics WHERE experiment_id = '" + other + "'")).isZero();
    }

    @Test
    void refusesBadPointsAndFinishedExperiments()
    {
        String id = submit("strict");
        String credential = scheduler.server().workerCredential(id);
        assertReportFails(List.of(batch(id, credential, List.of(point("Loss!", 1, 1, 1.0)))), Status.Code.INVALID_ARGUMENT,
                "points.name must be 1 to 64 lower-case letters, digits or '_': got \"Loss!\"");
        assertReportFails(List.of(batch(id, credential, List.of(point("loss", 1, 1, Double.NaN)))), Status.Code.INVALID_ARGUMENT,
                "points.value must be a finite number: got NaN (loss at step 1)");
        assertReportFails(List.of(batch(id, credential, List.of(point("loss", 1, -5, 1.0)))), Status.Code.INVALID_ARGUMENT, "points.step must not be negative");
        assertReportFails(List.of(batch(id, credential, points("loss", 1, 1, 10_001, 1.0))), Status.Code.INVALID_ARGUMENT,
                "a batch may hold at most 10000 points: got 10001");
        assertThat(scheduler.count("SELECT count(*) FROM metrics WHERE experiment_id = '" + id + "'")).isZero();
        client.cancel(id, "");
        // a worker's credential expires when its experiment ends
        assertReportFails(List.of(batch(id, credential, points("loss", 1, 1, 10, 1.0))), Status.Code.PERMISSION_DENIED,
                "the credential for experiment " + id + " expired when it ended (CANCELLED)");
        assertThatThrownBy(() -> client.metrics(GetMetricsRequest.newBuilder().setExperimentId("exp-none000000").build()))
                .hasMessageContaining("NOT_FOUND");
    }

    /**
     * A point's time goes to PostgreSQL: one no valid instant (or out of its range) is refused by its
     * place in the batch, and nothing of that batch is stored, rather than failing as an internal error.
     */
    @Test
    void refusesAPointTimeOutsideTheStorableRangeByItsPlaceInTheBatch()
    {
        String id = submit("timed");
        String credential = scheduler.server().workerCredential(id);
        for (long seconds : new long[] {Long.MAX_VALUE, 10_000_000_000_000_000L, 10_000_000_000_000L, -100_000_000_000L}) {
            List<MetricPoint> points = new ArrayList<>(points("loss", 1, 1, 5, 1.0));
            points.set(3, points.get(3).toBuilder().setAt(Timestamp.newBuilder().setSeconds(seconds)).build());
            assertReportFails(List.of(batch(id, credential, points)), Status.Code.INVALID_ARGUMENT,
                    "points[3].at must be a valid time between 0001-01-01 and 9999-12-31: got " + seconds + " s, 0 ns");
        }
        List<MetricPoint> badNanos = new ArrayList<>(points("loss", 1, 1, 2, 1.0));
        badNanos.set(1, badNanos.get(1).toBuilder().setAt(Timestamp.newBuilder().setSeconds(1_790_000_000L).setNanos(-1)).build());
        assertReportFails(List.of(batch(id, credential, badNanos)), Status.Code.INVALID_ARGUMENT, "points[1].at must be a valid time");
        assertThat(scheduler.count("SELECT count(*) FROM metrics WHERE experiment_id = '" + id + "'")).isZero();
    }

    private String submit(String name)
    {
        return client.submit(Specs.named(name, "default")).getExperiment().getId();
    }

    private ReportAck report(List<MetricBatch> batches)
            throws ExecutionException, InterruptedException, java.util.concurrent.TimeoutException
    {
        return MetricStreams.report(scheduler.target(), batches);
    }

    private void assertReportFails(List<MetricBatch> batches, Status.Code code, String message)
    {
        assertThatThrownBy(() -> report(batches))
                .isInstanceOf(ExecutionException.class)
                .satisfies(e -> {
                    Status status = Status.fromThrowable(e.getCause());
                    assertThat(status.getCode()).isEqualTo(code);
                    assertThat(status.getDescription()).contains(message);
                });
    }

    private static MetricBatch batch(String id, String credential, List<MetricPoint> points)
    {
        return MetricBatch.newBuilder().setExperimentId(id).setCredential(credential).addAllPoints(points).build();
    }

    private static List<MetricPoint> points(String name, int epoch, long fromStep, long toStep, double value)
    {
        List<MetricPoint> points = new ArrayList<>();
        for (long step = fromStep; step <= toStep; step++) {
            points.add(point(name, epoch, step, value));
        }
        return points;
    }

    private static MetricPoint point(String name, int epoch, long step, double value)
    {
        return MetricPoint.newBuilder().setName(name).setEpoch(epoch).setStep(step).setValue(value)
                .setAt(Timestamp.newBuilder().setSeconds(1_790_000_000L + step)).build();
    }
}

package dev.tranche.scheduler.service;

import dev.tranche.client.TrancheClient;
import dev.tranche.proto.v1.Experiment;
import dev.tranche.proto.v1.ExperimentEvent;
import dev.tranche.proto.v1.ExperimentSpec;
import dev.tranche.proto.v1.ExperimentState;
import dev.tranche.proto.v1.ListExperimentsRequest;
import dev.tranche.proto.v1.ListExperimentsResponse;
import dev.tranche.proto.v1.Project;
import dev.tranche.proto.v1.SubmitExperimentResponse;
import dev.tranche.proto.v1.WatchExperimentsRequest;
import dev.tranche.scheduler.store.ExperimentRepository;
import dev.tranche.scheduler.testing.Specs;
import dev.tranche.scheduler.testing.TestingScheduler;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static dev.tranche.scheduler.experiment.ExperimentState.PENDING;
import static dev.tranche.scheduler.experiment.ExperimentState.RUNNING;
import static dev.tranche.scheduler.experiment.ExperimentState.SCHEDULED;
import static dev.tranche.scheduler.experiment.ExperimentState.SUCCEEDED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** ExperimentService over real gRPC on loopback and a real PostgreSQL. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
final class ExperimentServiceTest
{
    private TestingScheduler scheduler;
    private TrancheClient client;

    @BeforeAll
    void start()
    {
        scheduler = new TestingScheduler();
        client = scheduler.client();
        client.createProject(Project.newBuilder().setName("vision").build());
        client.createProject(Project.newBuilder().setName("speech").build());
        client.createProject(Project.newBuilder().setName("paging").build());
    }

    @AfterAll
    void stop()
    {
        scheduler.close();
    }

    @Test
    void submitStoresPendingExperimentWithDefaultsAndTimeline()
    {
        ExperimentSpec spec = Specs.named("defaults", "vision").toBuilder()
                .clearReplicas().clearPriority().clearPreemptible().clearMaxRetries()
                .setTraining(Specs.example().getTraining().toBuilder().clearEpochs().clearBatchSize())
                .build();
        SubmitExperimentResponse response = client.submit(spec, "defaults-1");
        assertThat(response.getCreated()).isTrue();
        Experiment experiment = response.getExperiment();
        assertThat(experiment.getId()).matches("exp-[0-9a-z]{10}");
        assertThat(experiment.getState()).isEqualTo(ExperimentState.PENDING);
        assertThat(experiment.getSpec().getReplicas()).isEqualTo(1);
        assertThat(experiment.getSpec().getPriority()).isEqualTo("normal");
        assertThat(experiment.getSpec().getPreemptible()).isTrue();
        assertThat(experiment.getSpec().getMaxRetries()).isEqualTo(2);
        assertThat(experiment.getSpec().getTraining().getEpochs()).isEqualTo(10);
        assertThat(experiment.getSpec().getTraining().getBatchSize()).isEqualTo(64);

        Experiment fetched = client.get(experiment.getId());
        assertThat(fetched.getSpec()).isEqualTo(experiment.getSpec());
        assertThat(fetched.getRequestId()).isEqualTo("defaults-1");
        assertThat(fetched.getHistoryList()).singleElement().satisfies(step -> {
            assertThat(step.getTo()).isEqualTo(ExperimentState.PENDING);
            assertThat(step.getReason()).isEqualTo("submitted; waiting for the scheduler");
        });
    }

    @Test
    void resubmittingTheSameRequestIdReturnsTheFirstExperiment()
    {
        ExperimentSpec spec = Specs.named("idempotent", "vision");
        SubmitExperimentResponse first = client.submit(spec, "same-request");
        SubmitExperimentResponse second = client.submit(spec, "same-request");
        assertThat(second.getCreated()).isFalse();
        assertThat(second.getExperiment().getId()).isEqualTo(first.getExperiment().getId());
        assertThat(scheduler.count("SELECT count(*) FROM experiments WHERE request_id = 'same-request'")).isEqualTo(1);

        // the same request id in another project is another request
        SubmitExperimentResponse elsewhere = client.submit(Specs.named("idempotent", "speech"), "same-request");
        assertThat(elsewhere.getCreated()).isTrue();

        // a request id reused for a different spec is a client bug, not a retry
        assertThatThrownBy(() -> client.submit(Specs.named("something-else", "vision"), "same-request"))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.ALREADY_EXISTS);
                    assertThat(e.getStatus().getDescription()).contains("request_id same-request was used for experiment " + first.getExperiment().getId());
                });
    }

    @Test
    void concurrentRetriesOfOneRequestCreateOneExperiment()
            throws Exception
    {
        ExperimentSpec spec = Specs.named("racing", "vision");
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            List<Future<SubmitExperimentResponse>> futures = new ArrayList<>();
            for (int i = 0; i < 32; i++) {
                futures.add(pool.submit(() -> client.submit(spec, "raced-request")));
            }
            Set<String> ids = new HashSet<>();
            int created = 0;
            for (Future<SubmitExperimentResponse> future : futures) {
                SubmitExperimentResponse response = future.get(30, TimeUnit.SECONDS);
                ids.add(response.getExperiment().getId());
                created += response.getCreated() ? 1 : 0;
            }
            assertThat(ids).hasSize(1);
            assertThat(created).isEqualTo(1);
        }
        finally {
            pool.shutdownNow();
        }
        assertThat(scheduler.count("SELECT count(*) FROM experiments WHERE request_id = 'raced-request'")).isEqualTo(1);
    }

    @Test
    void listPagesNewestFirstWithoutGapsOrRepeats()
    {
        List<String> submitted = new ArrayList<>();
        for (int i = 0; i < 25; i++) {
            submitted.add(client.submit(Specs.named("page-" + i, "paging")).getExperiment().getId());
        }
        List<String> listed = new ArrayList<>();
        String token = "";
        int pages = 0;
        do {
            ListExperimentsResponse page = client.list(ListExperimentsRequest.newBuilder().setProject("paging").setPageSize(10).setPageToken(token).build());
            assertThat(page.getExperimentsCount()).isLessThanOrEqualTo(10);
            page.getExperimentsList().forEach(experiment -> listed.add(experiment.getId()));
            token = page.getNextPageToken();
            pages++;
        }
        while (!token.isEmpty());
        assertThat(pages).isEqualTo(3);
        java.util.Collections.reverse(submitted);
        assertThat(listed).containsExactlyElementsOf(submitted);
    }

    @Test
    void listFiltersByProjectAndState()
    {
        String kept = client.submit(Specs.named("filter-kept", "speech")).getExperiment().getId();
        String cancelled = client.submit(Specs.named("filter-cancelled", "speech")).getExperiment().getId();
        client.cancel(cancelled, "");

        List<Experiment> speechPending = client.list(ListExperimentsRequest.newBuilder().setProject("speech").addStates(ExperimentState.PENDING).build())
                .getExperimentsList();
        assertThat(speechPending).extracting(Experiment::getId).contains(kept).doesNotContain(cancelled);
        assertThat(speechPending).allSatisfy(experiment -> {
            assertThat(experiment.getSpec().getProject()).isEqualTo("speech");
            assertThat(experiment.getState()).isEqualTo(ExperimentState.PENDING);
        });

        List<Experiment> cancelledOrSucceeded = client.list(ListExperimentsRequest.newBuilder()
                .addStates(ExperimentState.CANCELLED).addStates(ExperimentState.SUCCEEDED).setPageSize(1000).build()).getExperimentsList();
        assertThat(cancelledOrSucceeded).extracting(Experiment::getId).contains(cancelled).doesNotContain(kept);

        assertThat(client.list(ListExperimentsRequest.newBuilder().setProject("no-such-project").build()).getExperimentsList()).isEmpty();
    }

    @Test
    void listRefusesBadPagingArguments()
    {
        assertInvalid(() -> client.list(ListExperimentsRequest.newBuilder().setPageSize(1001).build()),
                "page_size must be in [1, 1000] (0 for 50): got 1001");
        assertInvalid(() -> client.list(ListExperimentsRequest.newBuilder().setPageSize(-1).build()),
                "page_size must be in [1, 1000] (0 for 50): got -1");
        assertInvalid(() -> client.list(ListExperimentsRequest.newBuilder().setPageToken("garbage!").build()),
                "page_token is not one this server issued: got \"garbage!\"");
        assertInvalid(() -> client.list(ListExperimentsRequest.newBuilder().addStates(ExperimentState.EXPERIMENT_STATE_UNSPECIFIED).build()),
                "states must name real states");
    }

    @Test
    void cancelMovesToCancelledWithReasonAndIsIdempotent()
    {
        String id = client.submit(Specs.named("to-cancel", "vision")).getExperiment().getId();
        Experiment cancelled = client.cancel(id, "wrong learning rate");
        assertThat(cancelled.getState()).isEqualTo(ExperimentState.CANCELLED);
        assertThat(cancelled.getReason()).isEqualTo("cancelled by user: wrong learning rate");
        assertThat(cancelled.getHistoryList()).extracting(step -> step.getTo()).containsExactly(ExperimentState.PENDING, ExperimentState.CANCELLED);
        assertThat(cancelled.getHistory(1).getFrom()).isEqualTo(ExperimentState.PENDING);

        Experiment again = client.cancel(id, "");
        assertThat(again.getState()).isEqualTo(ExperimentState.CANCELLED);
        assertThat(again.getHistoryCount()).isEqualTo(2);
    }

    @Test
    void getSaysHowManyAttemptsThereWereAndHowManyFailed()
            throws Exception
    {
        String id = client.submit(Specs.named("attempted", "vision")).getExperiment().getId();
        assertThat(client.get(id).getAttempts()).isZero();
        assertThat(client.get(id).getFailedAttempts()).isZero();

        ExperimentRepository repository = new ExperimentRepository(scheduler.dataSource());
        repository.transition(id, Set.of(PENDING), SCHEDULED, "placed on node-1");
        // as the placement writer counts it (it needs a registered node, which this server has not)
        try (java.sql.Connection connection = scheduler.dataSource().getConnection();
                java.sql.Statement statement = connection.createStatement()) {
            statement.executeUpdate("UPDATE experiments SET attempts = 2 WHERE id = '" + id + "'");
        }
        repository.transitionAfterFailure(id, Set.of(SCHEDULED), PENDING, "attempt 1 of 3 failed: its workers did not all start");
        Experiment experiment = client.get(id);
        assertThat(experiment.getAttempts()).isEqualTo(2);
        assertThat(experiment.getFailedAttempts()).as("counted by the failure, in the same transaction").isEqualTo(1);
        assertThat(experiment.getState()).isEqualTo(ExperimentState.PENDING);
    }

    @Test
    void cancelOfUnknownOrFinishedExperimentsIsRefused()
    {
        assertThatThrownBy(() -> client.cancel("exp-doesnotexist", ""))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
                    assertThat(e.getStatus().getDescription()).isEqualTo("experiment exp-doesnotexist does not exist");
                });
        String id = client.submit(Specs.named("finished", "vision")).getExperiment().getId();
        ExperimentRepository repository = new ExperimentRepository(scheduler.dataSource());
        repository.transition(id, Set.of(PENDING), SCHEDULED, "placed on node-1");
        repository.transition(id, Set.of(SCHEDULED), RUNNING, "workers started");
        repository.transition(id, Set.of(RUNNING), SUCCEEDED, "training finished");
        assertThatThrownBy(() -> client.cancel(id, ""))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
                    assertThat(e.getStatus().getDescription()).isEqualTo("experiment " + id + " is SUCCEEDED; it cannot become CANCELLED");
                });
        assertThat(client.get(id).getHistoryList()).extracting(step -> step.getReason())
                .containsExactly("submitted; waiting for the scheduler", "placed on node-1", "workers started", "training finished");
    }

    @Test
    void logsNeedAnExistingExperimentAndReplica()
    {
        String id = client.submit(Specs.named("logged", "vision")).getExperiment().getId();
        // no execution backend in this scheduler: nothing has been printed
        assertThat(client.logs(id, 0, 10)).isEmpty();
        assertInvalid(() -> client.logs(id, 1, 10), "rank must be in [0, 0] for experiment " + id + ": got 1");
        assertInvalid(() -> client.logs(id, 0, 10_001), "tail_lines must be in [1, 10000] (0 for 100): got 10001");
        assertThatThrownBy(() -> client.logs("exp-nolog00000", 0, 10))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
    }

    @Test
    void getOfUnknownExperimentIsNotFound()
    {
        assertThatThrownBy(() -> client.get("exp-missing00"))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
        assertInvalid(() -> client.get(""), "id is required");
    }

    @Test
    void watchOfOneExperimentStartsWithItsStateAndEndsWhenItEnds()
    {
        String id = client.submit(Specs.named("watched", "vision")).getExperiment().getId();
        Iterator<ExperimentEvent> events = client.watch(WatchExperimentsRequest.newBuilder().setId(id).build());
        ExperimentEvent first = events.next();
        assertThat(first.getExperiment().getState()).isEqualTo(ExperimentState.PENDING);
        assertThat(first.hasTransition()).isFalse();
        assertThat(first.getExperiment().getHistoryCount()).isEqualTo(1);

        client.cancel(id, "enough");
        ExperimentEvent second = events.next();
        assertThat(second.getExperiment().getState()).isEqualTo(ExperimentState.CANCELLED);
        assertThat(second.getTransition().getFrom()).isEqualTo(ExperimentState.PENDING);
        assertThat(second.getTransition().getTo()).isEqualTo(ExperimentState.CANCELLED);
        assertThat(second.getTransition().getReason()).isEqualTo("cancelled by user: enough");
        assertThat(events.hasNext()).isFalse();
    }

    @Test
    void watchOfAProjectSeesItsChangesOnly()
    {
        client.createProject(Project.newBuilder().setName("watched-project").build());
        String before = client.submit(Specs.named("before-watch", "watched-project")).getExperiment().getId();
        Iterator<ExperimentEvent> events = client.watch(WatchExperimentsRequest.newBuilder().setProject("watched-project").build());
        // active experiments come first, without a transition
        ExperimentEvent snapshot = events.next();
        assertThat(snapshot.getExperiment().getId()).isEqualTo(before);
        assertThat(snapshot.hasTransition()).isFalse();

        // the stream is live now; a change in another project must not show up
        String other = client.submit(Specs.named("elsewhere", "speech")).getExperiment().getId();
        String mine = client.submit(Specs.named("mine", "watched-project")).getExperiment().getId();
        client.cancel(mine, "");
        ExperimentEvent submitted = events.next();
        ExperimentEvent cancelled = events.next();
        assertThat(submitted.getExperiment().getId()).isEqualTo(mine).isNotEqualTo(other);
        assertThat(submitted.getTransition().getTo()).isEqualTo(ExperimentState.PENDING);
        assertThat(cancelled.getExperiment().getId()).isEqualTo(mine);
        assertThat(cancelled.getTransition().getTo()).isEqualTo(ExperimentState.CANCELLED);
    }

    @Test
    void watchOfUnknownExperimentIsNotFound()
    {
        Iterator<ExperimentEvent> events = client.watch(WatchExperimentsRequest.newBuilder().setId("exp-nowhere000").build());
        assertThatThrownBy(events::hasNext)
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
    }

    private static void assertInvalid(Runnable call, String message)
    {
        assertThatThrownBy(call::run)
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).contains(message);
                });
    }
}

package dev.tranche.scheduler.execution;

import dev.tranche.scheduler.backend.local.LocalProcessBackend;
import dev.tranche.scheduler.core.model.ReplicaPlacement;
import dev.tranche.scheduler.experiment.ExperimentEventBus;
import dev.tranche.scheduler.experiment.ExperimentState;
import dev.tranche.scheduler.inventory.DeclaredInventory;
import dev.tranche.scheduler.metrics.WorkerCredentials;
import dev.tranche.scheduler.store.ClusterRepository;
import dev.tranche.scheduler.store.ExperimentRepository;
import dev.tranche.scheduler.store.GangPortRepository;
import dev.tranche.scheduler.store.PlacementWriter;
import dev.tranche.scheduler.testing.AdjustableClock;
import dev.tranche.scheduler.testing.Specs;
import dev.tranche.scheduler.testing.TestingDatabase;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The execution controller over real child processes and a real PostgreSQL, driven pass by pass.
 * Each placement of an experiment is a run attempt of its own: an experiment preempted and placed
 * again before the controller's next pass must not have its previous attempt's workers adopted as
 * the new placement's, and stopping those must leave the new attempt's workers alone.
 */
final class ExecutionControllerTest
{
    @RegisterExtension
    static final TestingDatabase database = new TestingDatabase();

    @TempDir
    Path files;

    private ClusterRepository cluster;
    private ExperimentRepository experiments;
    private PlacementWriter writer;
    private LocalProcessBackend backend;
    private ExecutionController controller;

    @BeforeEach
    void start()
            throws IOException
    {
        cluster = new ClusterRepository(database.dataSource());
        experiments = new ExperimentRepository(database.dataSource());
        writer = new PlacementWriter(database.dataSource());
        cluster.registerNodes(DeclaredInventory.of(1, 2, 24 * 1024).nodes());
        // says which GPU it was given when it starts and when it is stopped, and runs until then
        Path worker = files.resolve("worker.sh");
        Files.writeString(worker, """
                #!/bin/sh
                echo "started on gpus $TRANCHE_GPU_IDS"
                trap 'echo "stopped on gpus $TRANCHE_GPU_IDS"; exit 143' TERM
                while true; do sleep 0.1; done
                """);
        Files.setPosixFilePermissions(worker, PosixFilePermissions.fromString("rwxr-xr-x"));
        backend = new LocalProcessBackend(files.resolve("home"), List.of(worker.toString()));
        controller = new ExecutionController(backend, cluster, experiments, new ExperimentEventBus(), new WorkerCredentials(new byte[32]), "127.0.0.1:50051",
                Duration.ofSeconds(5), node -> true, new GangPortRepository(database.dataSource()));
    }

    @AfterEach
    void stop()
    {
        backend.stopAllAndWait(Duration.ofSeconds(5));
        // the database is the class's: what a test placed gives its GPUs back
        for (ClusterRepository.Held held : cluster.snapshot().held()) {
            experiments.transition(held.experiment().id(), ExperimentState.cancellable(), ExperimentState.CANCELLED, "the test is over");
        }
    }

    @Test
    void aGangPreemptedAndPlacedAgainBeforeAPassHasItsOldWorkersStoppedAndOnlyTheNewAttemptRuns()
    {
        String id = "exp-replaced01";
        experiments.insert(id, Specs.accepted("replaced", "default"), Optional.empty(), "submitted");
        writer.place(id, onGpu(0), "placed", List.of());
        controller.reconcile();
        await().atMost(Duration.ofSeconds(10)).until(() -> log(id).contains("started on gpus 0"));
        controller.reconcile();
        assertThat(state(id)).isEqualTo(ExperimentState.RUNNING);

        // preempted and placed again (on the other GPU) in one transaction: no pass of the controller in between
        writer.place(id, onGpu(1), "placed again", List.of(new PlacementWriter.Eviction(id, "preempted by the test")));
        controller.reconcile();

        // the first attempt's worker is not taken for the new placement's: it is stopped
        assertThat(state(id)).as("the old attempt's worker must not make the new placement RUNNING").isEqualTo(ExperimentState.SCHEDULED);
        await().atMost(Duration.ofSeconds(10)).until(() -> log(id).contains("stopped on gpus 0"));
        // once it is gone the new attempt is launched on the new GPU, and it is what runs
        await().atMost(Duration.ofSeconds(20)).until(() -> {
            controller.reconcile();
            return log(id).contains("started on gpus 1");
        });
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            controller.reconcile();
            return state(id) == ExperimentState.RUNNING;
        });
        // and later passes keep it running: stopping the old attempt never reaches the new one
        for (int pass = 0; pass < 5; pass++) {
            controller.reconcile();
            sleep(200);
        }
        assertThat(log(id)).doesNotContain("stopped on gpus 1");
        assertThat(state(id)).isEqualTo(ExperimentState.RUNNING);
        assertThat(backend.workers()).hasSize(1);
        // the record says which attempt runs; a preemption is not a failed attempt
        assertThat(experiments.find(id).orElseThrow()).satisfies(running -> {
            assertThat(running.attempts()).isEqualTo(2);
            assertThat(running.failedAttempts()).isZero();
        });
    }

    /**
     * A running gang loses a rank (its processes killed from outside, supervising shell included, so
     * no exit code): the other rank, which would wait for it for ever, is stopped with the grace (it
     * checkpoints) and the experiment goes back to the queue, without counting an attempt.
     */
    @Test
    void aRunningGangThatLosesARankIsStoppedAndRequeuedWithoutCountingAnAttempt()
            throws Exception
    {
        String id = "exp-lostrank01";
        experiments.insert(id, Specs.accepted("lost-rank", "default"), Optional.empty(), "submitted");
        writer.place(id, List.of(new ReplicaPlacement("local-1", Map.of(0, 1000), 1000, 1024), new ReplicaPlacement("local-1", Map.of(1, 1000), 1000, 1024)),
                "placed", List.of());
        controller.reconcile();
        await().atMost(Duration.ofSeconds(10)).until(() -> log(id).contains("started on gpus 0") && backend.logTail(id, 1, 20).contains("started on gpus 1"));
        controller.reconcile();
        assertThat(state(id)).isEqualTo(ExperimentState.RUNNING);

        Path pidFile;
        try (var found = Files.find(files.resolve("home").resolve("runs").resolve(id), 2, (path, attributes) -> path.getFileName().toString().equals("rank-1.pid"))) {
            pidFile = found.findFirst().orElseThrow();
        }
        long session = Long.parseLong(Files.readString(pidFile).strip());
        assertThat(new ProcessBuilder("kill", "-KILL", "--", "-" + session).start().waitFor()).isZero();
        await().atMost(Duration.ofSeconds(5)).until(() -> ProcessHandle.of(session).isEmpty());
        controller.reconcile();

        assertThat(experiments.find(id).orElseThrow()).satisfies(requeued -> {
            assertThat(requeued.state()).isEqualTo(ExperimentState.PENDING);
            assertThat(requeued.reason()).isEqualTo("worker 1 of 2 was lost (its processes ended without an exit code: killed, or with the scheduler);"
                    + " back in the queue, it resumes from its last checkpoint");
        });
        assertThat(experiments.failedAttempts(id)).isZero();
        assertThat(database.heldGpuMilli(id)).isZero();
        // rank 0 was asked to stop, and had the grace to do so
        await().atMost(Duration.ofSeconds(10)).until(() -> log(id).contains("stopped on gpus 0"));
        await().atMost(Duration.ofSeconds(10)).until(() -> backend.workers().isEmpty());
    }

    /**
     * A gang whose workers never start (here: every launch fails, as when the backend cannot create
     * them) holds its GPUs only until the start timeout: then the attempt counts as failed, with the
     * reason, and the experiment goes back to the queue for its next try.
     */
    @Test
    void aGangWhoseWorkersDoNotStartWithinTheStartTimeoutGoesBackToTheQueueWithTheReason()
            throws Exception
    {
        // a backend whose home is a file: no run directory can be made, so no launch gets anywhere
        Path notADirectory = Files.writeString(files.resolve("not-a-directory"), "");
        LocalProcessBackend broken = new LocalProcessBackend(notADirectory, List.of("true"));
        AdjustableClock clock = new AdjustableClock();
        ExecutionController impatient = new ExecutionController(broken, cluster, experiments, new ExperimentEventBus(), new WorkerCredentials(new byte[32]),
                "127.0.0.1:50051", Duration.ofSeconds(5), node -> true, new GangPortRepository(database.dataSource()), Optional.empty(), Duration.ofSeconds(30),
                clock);
        String id = "exp-nostart001";
        experiments.insert(id, Specs.accepted("never-starts", "default"), Optional.empty(), "submitted");
        writer.place(id, onGpu(0), "placed", List.of());
        impatient.reconcile();
        impatient.reconcile();
        assertThat(state(id)).isEqualTo(ExperimentState.SCHEDULED);

        // placed, and watched by the controller, longer ago than the start timeout
        database.execute("UPDATE replica_placements SET placed_at = now() - interval '31 seconds' WHERE experiment_id = '" + id + "'");
        clock.advance(Duration.ofSeconds(31));
        impatient.reconcile();
        assertThat(experiments.find(id).orElseThrow()).satisfies(requeued -> {
            assertThat(requeued.state()).isEqualTo(ExperimentState.PENDING);
            assertThat(requeued.reason())
                    .isEqualTo("attempt 1 of 3 failed: its workers did not all start within 30s (no workers were started); retrying from the last checkpoint");
            assertThat(requeued.attempts()).isEqualTo(1);
            assertThat(requeued.failedAttempts()).isEqualTo(1);
        });
        assertThat(database.heldGpuMilli(id)).isZero();
    }

    /**
     * The start timeout counts from the placement, but not from before the controller first saw it: a
     * scheduler that was down for longer than the timeout launches what was placed before, rather than
     * failing it for the time it was away.
     */
    @Test
    void aRestartedControllerGivesAGangPlacedLongAgoItsFullTimeToStart()
            throws Exception
    {
        String id = "exp-oldplace01";
        experiments.insert(id, Specs.accepted("placed-long-ago", "default"), Optional.empty(), "submitted");
        writer.place(id, onGpu(0), "placed", List.of());
        database.execute("UPDATE replica_placements SET placed_at = now() - interval '1 hour' WHERE experiment_id = '" + id + "'");

        controller.reconcile();
        assertThat(state(id)).isEqualTo(ExperimentState.SCHEDULED);
        await().atMost(Duration.ofSeconds(10)).until(() -> log(id).contains("started on gpus 0"));
        controller.reconcile();
        assertThat(state(id)).isEqualTo(ExperimentState.RUNNING);
    }

    private List<String> log(String id)
    {
        return backend.logTail(id, 0, 20);
    }

    private ExperimentState state(String id)
    {
        return experiments.find(id).orElseThrow().state();
    }

    private static List<ReplicaPlacement> onGpu(int index)
    {
        return List.of(new ReplicaPlacement("local-1", Map.of(index, 1000), 1000, 1024));
    }

    private static void sleep(long millis)
    {
        try {
            Thread.sleep(millis);
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}

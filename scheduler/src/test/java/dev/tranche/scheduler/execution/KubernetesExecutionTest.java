package dev.tranche.scheduler.execution;

import dev.tranche.client.TrancheClient;
import dev.tranche.proto.v1.Experiment;
import dev.tranche.proto.v1.ExperimentSpec;
import dev.tranche.proto.v1.ExperimentState;
import dev.tranche.proto.v1.Project;
import dev.tranche.proto.v1.Quota;
import dev.tranche.scheduler.backend.kubernetes.KubernetesLauncher;
import dev.tranche.scheduler.backend.kubernetes.SimulatedDevicePlugin;
import dev.tranche.scheduler.core.model.ReplicaPlacement;
import dev.tranche.scheduler.experiment.ExperimentEventBus;
import dev.tranche.scheduler.inventory.DeclaredInventory;
import dev.tranche.scheduler.metrics.WorkerCredentials;
import dev.tranche.scheduler.store.ClusterRepository;
import dev.tranche.scheduler.store.ExperimentRepository;
import dev.tranche.scheduler.store.PlacementWriter;
import dev.tranche.scheduler.testing.Specs;
import dev.tranche.scheduler.testing.TestingScheduler;
import io.fabric8.kubernetes.api.model.ContainerStateBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The experiment lifecycle through a real scheduler (gRPC, scheduling loop, PostgreSQL) and the
 * Kubernetes backend on fabric8's CRUD mock: launch, RUNNING, SUCCEEDED, retries, cancel, preemption
 * and node loss. The test plays the kubelet by writing pod phases.
 */
@EnableKubernetesMockClient(crud = true)
final class KubernetesExecutionTest
{
    private static final String NAMESPACE = "tranche";

    KubernetesClient kubernetes;

    private TestingScheduler scheduler;
    private TrancheClient client;
    private ExecutionController controller;
    private final Set<String> lostNodes = new HashSet<>();
    private SimulatedDevicePlugin devicePlugin;
    private final dev.tranche.scheduler.testing.AdjustableClock clock = new dev.tranche.scheduler.testing.AdjustableClock();

    @BeforeEach
    void start()
    {
        scheduler = new TestingScheduler(Optional.of(DeclaredInventory.of(1, 2, 24 * 1024)));
        client = scheduler.client();
        devicePlugin = new SimulatedDevicePlugin(kubernetes, NAMESPACE);
        controller = new ExecutionController(
                new KubernetesLauncher(kubernetes, NAMESPACE, "tranche/worker:test", "/checkpoints"),
                new ClusterRepository(scheduler.dataSource()),
                new ExperimentRepository(scheduler.dataSource()),
                new ExperimentEventBus(),
                new WorkerCredentials(new byte[32]),
                "tranche-scheduler:50051",
                Duration.ofSeconds(30),
                node -> !lostNodes.contains(node),
                new dev.tranche.scheduler.store.GangPortRepository(scheduler.dataSource()),
                Optional.empty(),
                ExecutionController.DEFAULT_START_TIMEOUT,
                clock);
    }

    @AfterEach
    void stop()
    {
        scheduler.close();
        kubernetes.pods().inAnyNamespace().list().getItems().forEach(pod -> kubernetes.pods().resource(pod).delete());
    }

    @Test
    void aPlacedExperimentRunsAsPodsAndSucceeds()
    {
        String id = placed(Specs.named("runs", "default"));
        launched();
        List<Pod> pods = pods(id);
        assertThat(pods).singleElement().satisfies(pod -> assertThat(pod.getSpec().getNodeName()).isEqualTo("local-1"));
        // a second pass launches nothing more
        controller.reconcile();
        assertThat(pods(id)).hasSize(1);

        phase(pod(id, 0), "Running", null);
        controller.reconcile();
        assertThat(client.get(id).getState()).isEqualTo(ExperimentState.RUNNING);

        phase(pod(id, 0), "Succeeded", 0);
        controller.reconcile();
        Experiment done = client.get(id);
        assertThat(done.getState()).isEqualTo(ExperimentState.SUCCEEDED);
        assertThat(done.getReason()).isEqualTo("training finished: the worker finished");
        assertThat(scheduler.count("SELECT coalesce(sum(used_milli), 0) FROM gpus")).isZero();
        await().atMost(Duration.ofSeconds(10)).until(() -> pods(id).isEmpty());
    }

    @Test
    void aFailedWorkerIsRetriedThenTheExperimentFailsWithItsLastError()
    {
        ExperimentSpec spec = Specs.named("flaky", "default").toBuilder().setMaxRetries(1).build();
        String id = placed(spec);
        launched();
        phase(pod(id, 0), "Failed", 1);
        controller.reconcile();
        // back in the queue (the scheduling loop may already have placed it again: look at the history, not the state)
        Experiment retried = client.get(id);
        assertThat(lastRequeueReason(retried))
                .isEqualTo("attempt 1 of 2 failed: worker " + id + "-a1-0 failed: exit code 1 (Completed); retrying from the last checkpoint");

        await().atMost(Duration.ofSeconds(20)).until(() -> client.get(id).getState() == ExperimentState.SCHEDULED);
        await().atMost(Duration.ofSeconds(10)).until(() -> pods(id).isEmpty());
        launched();
        phase(pod(id, 0), "Failed", 137);
        controller.reconcile();
        Experiment failed = client.get(id);
        assertThat(failed.getState()).isEqualTo(ExperimentState.FAILED);
        // placed again, it ran as attempt 2
        assertThat(failed.getReason()).isEqualTo("failed after 2 attempts: worker " + id + "-a2-0 failed: exit code 137 (OOMKilled)");
    }

    @Test
    void cancellingStopsThePodsAndALostNodeRequeuesItsExperiments()
    {
        String cancelled = placed(Specs.named("cancelled", "default"));
        String onLostNode = placed(Specs.named("on-lost-node", "default"));
        launched();
        assertThat(pods(cancelled)).hasSize(1);
        client.cancel(cancelled, "");
        controller.reconcile();
        await().atMost(Duration.ofSeconds(10)).until(() -> pods(cancelled).isEmpty());

        phase(pod(onLostNode, 0), "Running", null);
        controller.reconcile();
        lostNodes.add("local-1");
        controller.reconcile();
        Experiment requeued = client.get(onLostNode);
        assertThat(requeued.getHistoryList()).extracting(step -> step.getTo()).contains(ExperimentState.RUNNING, ExperimentState.PENDING);
        assertThat(lastRequeueReason(requeued))
                .isEqualTo("node local-1 was lost; back in the queue, it resumes from its last checkpoint");
    }

    @Test
    void preemptionStopsTheVictimsPodsBeforeTheNewGangLaunchesThere()
    {
        client.createProject(Project.newBuilder().setName("owner").build());
        client.setQuota("owner", Quota.newBuilder().setDeservedGpus(2).build());
        String borrowed = placed(whole(Specs.named("borrowed", "default"), 2));
        launched();
        phase(pod(borrowed, 0), "Running", null);
        controller.reconcile();
        assertThat(client.get(borrowed).getState()).isEqualTo(ExperimentState.RUNNING);

        String owned = placed(whole(Specs.named("owned", "owner"), 2));
        assertThat(client.get(borrowed).getState()).isEqualTo(ExperimentState.PENDING);
        // the victim's pods are stopped (with the grace period) first; the new gang launches once they are gone
        controller.reconcile();
        await().atMost(Duration.ofSeconds(10)).until(() -> pods(borrowed).isEmpty());
        launched();
        assertThat(pods(owned)).singleElement().satisfies(pod -> assertThat(pod.getSpec().getNodeName()).isEqualTo("local-1"));
    }

    /**
     * Preempted and placed again in one transaction, before the controller's next pass: the first
     * attempt's pods are not taken for the new placement's (they are deleted), and the new attempt's
     * pods, once launched, are kept by every later pass.
     */
    @Test
    void aGangPreemptedAndPlacedAgainBeforeAPassHasItsOldPodsDeletedAndOnlyTheNewAttemptsKept()
    {
        String id = placed(gang("moved"));
        launched();
        pods(id).forEach(pod -> phase(pod.getMetadata().getName(), "Running", null));
        controller.reconcile();
        assertThat(client.get(id).getState()).isEqualTo(ExperimentState.RUNNING);
        Set<String> oldPods = names(pods(id));
        assertThat(oldPods).hasSize(2);

        ClusterRepository.Held held = new ClusterRepository(scheduler.dataSource()).snapshot().held().stream()
                .filter(gang -> gang.experiment().id().equals(id)).findFirst().orElseThrow();
        List<ReplicaPlacement> moved = held.replicas().stream()
                .map(replica -> new ReplicaPlacement(replica.node(), Map.of(1 - replica.gpuMilli().keySet().iterator().next(), 250), replica.cpuMilli(),
                        replica.memoryMib()))
                .toList();
        new PlacementWriter(scheduler.dataSource()).place(id, moved, "placed again", List.of(new PlacementWriter.Eviction(id, "preempted by the test")));
        controller.reconcile();

        assertThat(client.get(id).getState()).as("the old attempt's pods must not make the new placement RUNNING").isEqualTo(ExperimentState.SCHEDULED);
        await().atMost(Duration.ofSeconds(10)).until(() -> names(pods(id)).stream().noneMatch(oldPods::contains));
        launched();
        List<Pod> fresh = pods(id);
        assertThat(names(fresh)).hasSize(2).doesNotContainAnyElementsOf(oldPods);
        String newGpu = "tranche-gpu-local-1-" + moved.get(0).gpuMilli().keySet().iterator().next();
        assertThat(fresh).allSatisfy(pod -> assertThat(pod.getMetadata().getAnnotations()).containsEntry("tranche.dev/gpu-reservations", newGpu));
        fresh.forEach(pod -> phase(pod.getMetadata().getName(), "Running", null));
        controller.reconcile();
        assertThat(client.get(id).getState()).isEqualTo(ExperimentState.RUNNING);
        controller.reconcile();
        controller.reconcile();
        assertThat(names(pods(id))).isEqualTo(names(fresh));
    }

    /** A launch cut short (rank 1's pod never came to be): the gang is not RUNNING while one of its workers is missing. */
    @Test
    void aGangMissingOneOfItsWorkersIsNotRunning()
    {
        String id = placed(gang("partial"));
        launched();
        kubernetes.pods().inNamespace(NAMESPACE).withName(pod(id, 1)).delete();
        await().atMost(Duration.ofSeconds(10)).until(() -> pods(id).size() == 1);
        phase(pod(id, 0), "Running", null);
        controller.reconcile();
        assertThat(client.get(id).getState()).isEqualTo(ExperimentState.SCHEDULED);
        controller.reconcile();
        assertThat(client.get(id).getState()).isEqualTo(ExperimentState.SCHEDULED);
    }

    /**
     * A running gang loses a worker (its pod deleted by hand): the other worker, which would wait for
     * it for ever, is stopped and the experiment goes back to the queue, without counting an attempt
     * (with no retries, a counted attempt would have failed it).
     */
    @Test
    void aRunningGangThatLosesAWorkerPodIsStoppedAndRequeuedWithoutCountingAnAttempt()
    {
        String id = placed(gang("lost-worker").toBuilder().setMaxRetries(0).build());
        launched();
        pods(id).forEach(pod -> phase(pod.getMetadata().getName(), "Running", null));
        controller.reconcile();
        assertThat(client.get(id).getState()).isEqualTo(ExperimentState.RUNNING);
        String kept = pod(id, 0);
        String lost = pod(id, 1);

        kubernetes.pods().inNamespace(NAMESPACE).withName(lost).delete();
        await().atMost(Duration.ofSeconds(10)).until(() -> !names(pods(id)).contains(lost));
        controller.reconcile();

        requeuedWith(id, "worker 1 of 2 (pod " + lost + ") was lost (its pod is gone); back in the queue, it resumes from its last checkpoint");
        assertThat(new ExperimentRepository(scheduler.dataSource()).failedAttempts(id)).isZero();
        await().atMost(Duration.ofSeconds(10)).until(() -> !names(pods(id)).contains(kept));
    }

    /** An evicted worker pod (node pressure, say) is lost, not failed: the attempt is not counted. */
    @Test
    void aRunningGangWithAnEvictedWorkerIsRequeuedWithoutCountingAnAttempt()
    {
        String id = placed(gang("evicted-worker").toBuilder().setMaxRetries(0).build());
        launched();
        pods(id).forEach(pod -> phase(pod.getMetadata().getName(), "Running", null));
        controller.reconcile();
        assertThat(client.get(id).getState()).isEqualTo(ExperimentState.RUNNING);
        String kept = pod(id, 0);
        String evicted = pod(id, 1);

        Pod current = kubernetes.pods().inNamespace(NAMESPACE).withName(evicted).get();
        current.setStatus(new PodStatusBuilder().withPhase("Failed").withReason("Evicted").withMessage("The node was low on resource: memory.").build());
        kubernetes.pods().inNamespace(NAMESPACE).resource(current).updateStatus();
        controller.reconcile();

        requeuedWith(id, "worker 1 of 2 (pod " + evicted + ") was lost (evicted: The node was low on resource: memory.); back in the queue, it resumes from its last checkpoint");
        assertThat(new ExperimentRepository(scheduler.dataSource()).failedAttempts(id)).isZero();
        await().atMost(Duration.ofSeconds(10)).until(() -> !names(pods(id)).contains(kept));
    }

    /**
     * A running gang whose worker pod goes to phase Unknown (its node stopped reporting it) keeps its
     * GPUs only for the start timeout: a worker that comes back in time resets the wait, one that does
     * not has the gang stopped and requeued, without counting an attempt (not the run's fault).
     */
    @Test
    void aRunningGangWithAWorkerInPhaseUnknownIsRequeuedAfterTheStartTimeoutWithoutCountingAnAttempt()
    {
        String id = placed(gang("unknown-worker").toBuilder().setMaxRetries(0).build());
        launched();
        pods(id).forEach(pod -> phase(pod.getMetadata().getName(), "Running", null));
        controller.reconcile();
        assertThat(client.get(id).getState()).isEqualTo(ExperimentState.RUNNING);
        String kept = pod(id, 0);
        String unreported = pod(id, 1);

        phase(unreported, "Unknown", null);
        controller.reconcile();
        assertThat(client.get(id).getState()).isEqualTo(ExperimentState.RUNNING);
        clock.advance(Duration.ofMinutes(5));
        // its node reports again: the wait starts over next time
        phase(unreported, "Running", null);
        controller.reconcile();
        phase(unreported, "Unknown", null);
        controller.reconcile();
        clock.advance(Duration.ofMinutes(9));
        controller.reconcile();
        assertThat(client.get(id).getState()).as("9 minutes unknown, 14 since the first time: within the 10m").isEqualTo(ExperimentState.RUNNING);

        clock.advance(Duration.ofMinutes(2));
        controller.reconcile();
        Experiment requeued = requeuedWith(id, "its workers were not all up for 10m (1 of 2 workers started; the state of pod " + unreported
                        + " is unknown: its node does not report it); back in the queue, it resumes from its last checkpoint");
        assertThat(requeued.getFailedAttempts()).isZero();
        await().atMost(Duration.ofSeconds(10)).until(() -> !names(pods(id)).contains(kept));
    }

    /**
     * A starting gang whose worker's pod goes to phase Unknown (its node stopped reporting it while the
     * pod started) is not up; past the start timeout it goes back to the queue without counting an
     * attempt: the node failed, not the run (with no retries, counting it would end the experiment).
     */
    @Test
    void aStartingGangWithAWorkerInPhaseUnknownIsRequeuedAfterTheStartTimeoutWithoutCountingAnAttempt()
    {
        String id = placed(gang("unknown-start").toBuilder().setMaxRetries(0).build());
        launched();
        phase(pod(id, 0), "Running", null);
        String unreported = pod(id, 1);
        phase(unreported, "Unknown", null);
        controller.reconcile();
        assertThat(client.get(id).getState()).isEqualTo(ExperimentState.SCHEDULED);

        sql("UPDATE replica_placements SET placed_at = now() - interval '11 minutes' WHERE experiment_id = '" + id + "'");
        clock.advance(Duration.ofMinutes(11));
        controller.reconcile();
        Experiment requeued = requeuedWith(id, "its workers did not all start within 10m (1 of 2 workers started; the state of pod " + unreported
                        + " is unknown: its node does not report it); not counted as a failed attempt, back in the queue");
        assertThat(requeued.getFailedAttempts()).isZero();
    }

    /** Rank 1's pod never leaves Pending (an image that cannot be pulled, say): past the start timeout the attempt ends, with the reason. */
    @Test
    void aGangWhoseWorkersDoNotAllStartWithinTheStartTimeoutIsRetriedWithTheReason()
    {
        String id = placed(gang("stuck"));
        launched();
        phase(pod(id, 0), "Running", null);
        controller.reconcile();
        assertThat(client.get(id).getState()).isEqualTo(ExperimentState.SCHEDULED);

        // placed, and seen by the controller, longer ago than the start timeout (10 minutes by default)
        sql("UPDATE replica_placements SET placed_at = now() - interval '11 minutes' WHERE experiment_id = '" + id + "'");
        controller.reconcile();
        assertThat(client.get(id).getState()).as("the controller has watched it for less than the timeout").isEqualTo(ExperimentState.SCHEDULED);
        clock.advance(Duration.ofMinutes(11));
        controller.reconcile();
        Experiment retried = client.get(id);
        assertThat(lastRequeueReason(retried))
                .isEqualTo("attempt 1 of 3 failed: its workers did not all start within 10m (1 of 2 workers started); retrying from the last checkpoint");
        await().atMost(Duration.ofSeconds(10)).until(() -> pods(id).isEmpty());
    }

    @Test
    void aGangWhoseWorkersDoNotStartInTimeWithNoRetriesLeftFails()
    {
        String id = placed(gang("stuck-for-good").toBuilder().setMaxRetries(0).build());
        launched();
        sql("UPDATE replica_placements SET placed_at = now() - interval '11 minutes' WHERE experiment_id = '" + id + "'");
        clock.advance(Duration.ofMinutes(11));
        controller.reconcile();
        Experiment failed = client.get(id);
        assertThat(failed.getState()).isEqualTo(ExperimentState.FAILED);
        assertThat(failed.getReason()).isEqualTo("failed after 1 attempt: its workers did not all start within 10m (0 of 2 workers started)");
        await().atMost(Duration.ofSeconds(10)).until(() -> pods(id).isEmpty());
    }

    /** A pass that launches: the reservations are created, the device plugin gives them devices, the next pass starts the pods. */
    @Test
    void gangsOnOneNodeGetTheirOwnPortsWhichOutliveARestartAndAreFreedWhenTheGangEnds()
    {
        String first = placed(gang("ports-a"));
        String second = placed(gang("ports-b"));
        launched();
        Set<String> firstPorts = ports(first);
        Set<String> secondPorts = ports(second);
        assertThat(firstPorts).hasSize(4).doesNotContainAnyElementsOf(secondPorts);
        assertThat(secondPorts).hasSize(4);
        // every rank of a gang is told the same ports
        assertThat(pods(first)).hasSize(2).allSatisfy(pod -> assertThat(portsOf(pod)).isEqualTo(firstPorts));

        // a restarted scheduler: new objects over the same database
        controller = new ExecutionController(
                new KubernetesLauncher(kubernetes, NAMESPACE, "tranche/worker:test", "/checkpoints"),
                new ClusterRepository(scheduler.dataSource()),
                new ExperimentRepository(scheduler.dataSource()),
                new ExperimentEventBus(),
                new WorkerCredentials(new byte[32]),
                "tranche-scheduler:50051",
                Duration.ofSeconds(30),
                node -> true,
                new dev.tranche.scheduler.store.GangPortRepository(scheduler.dataSource()));
        String third = placed(gang("ports-c"));
        launched();
        assertThat(ports(third)).hasSize(4).doesNotContainAnyElementsOf(firstPorts).doesNotContainAnyElementsOf(secondPorts);

        phase(pod(first, 0), "Running", null);
        phase(pod(first, 1), "Running", null);
        controller.reconcile();
        phase(pod(first, 0), "Succeeded", 0);
        phase(pod(first, 1), "Succeeded", 0);
        controller.reconcile();
        assertThat(client.get(first).getState()).isEqualTo(ExperimentState.SUCCEEDED);
        await().atMost(Duration.ofSeconds(10)).until(() -> pods(first).isEmpty());
        controller.reconcile();
        assertThat(scheduler.count("SELECT count(*) FROM gang_ports WHERE experiment_id = '" + first + "'")).isZero();
        assertThat(scheduler.count("SELECT count(*) FROM gang_ports")).isEqualTo(8);
    }

    /** Two replicas of a quarter GPU each: two such gangs fit on the one node. */
    private static ExperimentSpec gang(String name)
    {
        ExperimentSpec spec = Specs.named(name, "default");
        return spec.toBuilder().setReplicas(2)
                .setResources(spec.getResources().toBuilder().setGpu(dev.tranche.proto.v1.GpuRequest.newBuilder().setFraction(0.25))).build();
    }

    /** The ports rank 0 of the experiment was told, as "NAME=port". */
    private Set<String> ports(String experimentId)
    {
        return portsOf(pods(experimentId).stream().filter(pod -> pod.getMetadata().getName().endsWith("-0")).findFirst().orElseThrow());
    }

    private static Set<String> portsOf(Pod pod)
    {
        Set<String> ports = new java.util.TreeSet<>();
        pod.getSpec().getContainers().get(0).getEnv().forEach(variable -> {
            switch (variable.getName()) {
                case "TRANCHE_MASTER_ADDRESS" -> ports.add(variable.getValue().substring(variable.getValue().lastIndexOf(':') + 1));
                case "TRANCHE_DRIVER_PORT", "TRANCHE_BLOCK_MANAGER_PORT", "TRANCHE_GRADIENT_PORT" -> ports.add(variable.getValue());
                default -> { }
            }
        });
        return ports;
    }

    private void launched()
    {
        controller.reconcile();
        devicePlugin.grantAll();
        controller.reconcile();
    }

    private String placed(ExperimentSpec spec)
    {
        String id = client.submit(spec).getExperiment().getId();
        await().atMost(Duration.ofSeconds(20)).until(() -> client.get(id).getState() == ExperimentState.SCHEDULED);
        return id;
    }

    private static ExperimentSpec whole(ExperimentSpec spec, int gpus)
    {
        return spec.toBuilder().setResources(spec.getResources().toBuilder().setGpu(dev.tranche.proto.v1.GpuRequest.newBuilder().setCount(gpus))).build();
    }

    private List<Pod> pods(String experimentId)
    {
        return kubernetes.pods().inNamespace(NAMESPACE).withLabel("tranche.dev/experiment", experimentId).list().getItems();
    }

    /** The name of the experiment's pod of this rank (of its newest attempt). */
    private String pod(String experimentId, int rank)
    {
        return pods(experimentId).stream()
                .filter(pod -> Integer.toString(rank).equals(pod.getMetadata().getLabels().get("tranche.dev/rank")) && pod.getMetadata().getDeletionTimestamp() == null)
                .max(java.util.Comparator.comparingInt(pod -> Integer.parseInt(pod.getMetadata().getLabels().getOrDefault("tranche.dev/attempt", "0"))))
                .map(pod -> pod.getMetadata().getName()).orElseThrow();
    }

    private static Set<String> names(List<Pod> pods)
    {
        return new java.util.TreeSet<>(pods.stream().map(pod -> pod.getMetadata().getName()).toList());
    }

    private void sql(String statement)
    {
        try (java.sql.Connection connection = scheduler.dataSource().getConnection(); java.sql.Statement run = connection.createStatement()) {
            run.execute(statement);
        }
        catch (java.sql.SQLException e) {
            throw new IllegalStateException(statement, e);
        }
    }

    private void phase(String pod, String phase, Integer exitCode)
    {
        Pod current = kubernetes.pods().inNamespace(NAMESPACE).withName(pod).get();
        PodStatusBuilder status = new PodStatusBuilder().withPhase(phase);
        if (exitCode != null) {
            status.withContainerStatuses(new ContainerStatusBuilder().withName("worker")
                    .withState(new ContainerStateBuilder().withNewTerminated().withExitCode(exitCode).withReason(exitCode == 137 ? "OOMKilled" : "Completed").endTerminated().build())
                    .build());
        }
        current.setStatus(status.build());
        kubernetes.pods().inNamespace(NAMESPACE).resource(current).updateStatus();
    }

    /** The experiment back in the queue (or already placed again), its last requeue saying {@code reason}. */
    private Experiment requeuedWith(String id, String reason)
    {
        Experiment requeued = client.get(id);
        assertThat(requeued.getState()).isIn(ExperimentState.PENDING, ExperimentState.SCHEDULED);
        assertThat(lastRequeueReason(requeued)).isEqualTo(reason);
        return requeued;
    }

    /** Why the experiment last went back to PENDING. */
    private static String lastRequeueReason(Experiment experiment)
    {
        return experiment.getHistoryList().stream().filter(step -> step.getTo() == ExperimentState.PENDING).reduce((a, b) -> b).orElseThrow().getReason();
    }
}

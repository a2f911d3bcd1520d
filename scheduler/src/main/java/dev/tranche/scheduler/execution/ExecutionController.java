package dev.tranche.scheduler.execution;

import dev.tranche.cli.Durations;
import dev.tranche.scheduler.backend.ExecutionBackend;
import dev.tranche.scheduler.backend.GangPorts;
import dev.tranche.scheduler.backend.GangStatus;
import dev.tranche.scheduler.backend.LaunchRequest;
import dev.tranche.scheduler.backend.ReplicaLaunch;
import dev.tranche.scheduler.backend.RunAttempt;
import dev.tranche.scheduler.core.model.Gpu;
import dev.tranche.scheduler.core.model.ReplicaPlacement;
import dev.tranche.scheduler.experiment.DatasetRoots;
import dev.tranche.scheduler.experiment.ExperimentChange;
import dev.tranche.scheduler.experiment.ExperimentEventBus;
import dev.tranche.scheduler.experiment.ExperimentSpec;
import dev.tranche.scheduler.experiment.ExperimentState;
import dev.tranche.scheduler.inventory.NodeUsage;
import dev.tranche.scheduler.metrics.WorkerCredentials;
import dev.tranche.scheduler.store.ClusterRepository;
import dev.tranche.scheduler.store.ExperimentRepository;
import dev.tranche.scheduler.store.GangPortRepository;
import dev.tranche.scheduler.wire.ExperimentSpecs;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

import static java.util.Objects.requireNonNull;

/**
 * Makes the backend's reality and the database agree, one pass at a time: placed gangs without
 * workers are launched, workers whose experiment no longer holds GPUs (cancelled, preempted,
 * finished) are stopped, and what the workers do becomes the experiment's state — RUNNING once every
 * worker of the gang is up, SUCCEEDED, FAILED after its retries, or back to PENDING when its node or
 * a GPU reservation is lost, or when a RUNNING gang loses a worker not by its own failure (its pod
 * deleted or evicted, its processes killed): the rest of that attempt is stopped with the grace, and
 * no attempt is counted (a worker that exits with a failure code is a failed attempt). A gang whose workers are not all up within the start timeout of its
 * placement counts as a failed attempt, with that reason (the time counts from the placement, and
 * at most from when this controller first saw it: a restarted scheduler gives a gang its full time
 * again rather than failing it for the time the scheduler was down).
 * Device reservations no gang needs any more are freed at the start of each pass, and so are the
 * ports of gangs that ended; a gang gets its ports (stored, so they outlive a restart) just before
 * its workers start. Because a pass
 * starts from both sides' current state, a restarted scheduler neither duplicates nor loses work.
 * <p>
 * Workers are matched to placements by experiment and run attempt: each placement is a new attempt
 * (stored with it), and the backend names its workers with it. Workers of any other attempt than the
 * one an experiment's placement is (it was preempted, then placed again before they stopped) are
 * always stopped, never adopted, and the new attempt is launched once they are gone; stopping them
 * never touches the new attempt's.
 */
public final class ExecutionController
{
    private static final Logger log = LoggerFactory.getLogger(ExecutionController.class);
    /** How long a placed gang's workers may take to be all up, unless configured otherwise (--start-timeout). */
    public static final Duration DEFAULT_START_TIMEOUT = Duration.ofMinutes(10);

    private final ExecutionBackend backend;
    private final ClusterRepository cluster;
    private final ExperimentRepository experiments;
    private final ExperimentEventBus events;
    private final WorkerCredentials credentials;
    private final String schedulerAddress;
    private final Duration grace;
    private final Predicate<String> nodeAlive;
    private final GangPortRepository ports;
    private final Optional<DatasetRoots> datasetRoots;
    private final Duration startTimeout;
    private final Clock clock;
    /** When this controller first saw each placed attempt (by its clock): the start timeout counts from there at the earliest. */
    private final Map<RunAttempt, Instant> firstSeen = new HashMap<>();
    // running gangs whose workers are no longer all up (a pod whose node stopped reporting it, say), since when
    private final Map<RunAttempt, Instant> notUpSince = new HashMap<>();
    private final PortAllocator portAllocator = new PortAllocator(PortAllocator.FIRST_PORT, PortAllocator.LAST_PORT);

    public ExecutionController(ExecutionBackend backend, ClusterRepository cluster, ExperimentRepository experiments, ExperimentEventBus events,
            WorkerCredentials credentials, String schedulerAddress, Duration grace, Predicate<String> nodeAlive, GangPortRepository ports)
    {
        this(backend, cluster, experiments, events, credentials, schedulerAddress, grace, nodeAlive, ports, Optional.empty());
    }

    /**
     * @param datasetRoots for workers that run as the scheduler's own OS user (on its machine): the
     *         folders a data set may be read from, checked again at each launch, since what a path
     *         leads to can change after it was accepted (a link made later); a pod reads its own file
     *         system, so Kubernetes workers have none
     */
    public ExecutionController(ExecutionBackend backend, ClusterRepository cluster, ExperimentRepository experiments, ExperimentEventBus events,
            WorkerCredentials credentials, String schedulerAddress, Duration grace, Predicate<String> nodeAlive, GangPortRepository ports,
            Optional<DatasetRoots> datasetRoots)
    {
        this(backend, cluster, experiments, events, credentials, schedulerAddress, grace, nodeAlive, ports, datasetRoots, DEFAULT_START_TIMEOUT,
                Clock.systemUTC());
    }

    /**
     * @param startTimeout how long after its placement a gang's workers may take to be all up; past it
     *         the attempt is stopped and counts as failed (retried while the experiment has retries left)
     * @param clock what the time since this controller first saw a placement is read from
     */
    public ExecutionController(ExecutionBackend backend, ClusterRepository cluster, ExperimentRepository experiments, ExperimentEventBus events,
            WorkerCredentials credentials, String schedulerAddress, Duration grace, Predicate<String> nodeAlive, GangPortRepository ports,
            Optional<DatasetRoots> datasetRoots, Duration startTimeout, Clock clock)
    {
        this.clock = requireNonNull(clock, "clock is null");
        this.startTimeout = requireNonNull(startTimeout, "startTimeout is null");
        if (startTimeout.isNegative() || startTimeout.isZero()) {
            throw new IllegalArgumentException("the start timeout must be positive: got " + Durations.format(startTimeout));
        }
        this.datasetRoots = requireNonNull(datasetRoots, "datasetRoots is null");
        this.ports = requireNonNull(ports, "ports is null");
        this.backend = requireNonNull(backend, "backend is null");
        this.cluster = requireNonNull(cluster, "cluster is null");
        this.experiments = requireNonNull(experiments, "experiments is null");
        this.events = requireNonNull(events, "events is null");
        this.credentials = requireNonNull(credentials, "credentials is null");
        this.schedulerAddress = requireNonNull(schedulerAddress, "schedulerAddress is null");
        this.grace = requireNonNull(grace, "grace is null");
        this.nodeAlive = requireNonNull(nodeAlive, "nodeAlive is null");
    }

    /** One pass; returns how many experiments it changed or launched. */
    public int reconcile()
    {
        ClusterRepository.Snapshot snapshot = cluster.snapshot();
        Map<RunAttempt, Set<String>> workers = backend.workers();
        // each placed experiment, and the run attempt its placement is
        Map<String, Integer> held = new HashMap<>();
        snapshot.held().forEach(each -> held.put(each.experiment().id(), each.attempt()));
        Instant now = clock.instant();
        firstSeen.keySet().removeIf(run -> !Integer.valueOf(run.attempt()).equals(held.get(run.experimentId())));
        held.forEach((id, attempt) -> firstSeen.putIfAbsent(new RunAttempt(id, attempt), now));
        notUpSince.keySet().retainAll(firstSeen.keySet());
        Set<String> withWorkers = new HashSet<>();
        workers.keySet().forEach(run -> withWorkers.add(run.experimentId()));
        syncDevices(snapshot);
        releasePorts(held.keySet(), withWorkers);

        // workers of experiments that hold no GPUs any more, and workers of an attempt other than the one their experiment's
        // placement is (preempted, then placed again before they stopped): stop them, never adopt them, and keep their nodes
        // free, and their experiment's new attempt waiting, until they are gone
        Set<String> busyNodes = new HashSet<>();
        // experiments with workers that a launch of their placed attempt must wait for
        Set<String> stillStopping = new HashSet<>();
        for (Map.Entry<RunAttempt, Set<String>> each : workers.entrySet()) {
            RunAttempt run = each.getKey();
            Integer placed = held.get(run.experimentId());
            if (placed == null || placed != run.attempt()) {
                try {
                    backend.stop(run, grace);
                }
                catch (RuntimeException e) {
                    log.warn("could not stop the workers of {}: {}", run, e.getMessage());
                }
                busyNodes.addAll(each.getValue());
                stillStopping.add(run.experimentId());
            }
            else if (!each.getValue().isEmpty()) {
                // workers of the placed attempt itself: should it be GONE, they are still going away (stopped, being deleted)
                stillStopping.add(run.experimentId());
            }
        }
        Map<String, Map<Integer, Long>> gpuMemory = new HashMap<>();
        for (NodeUsage node : snapshot.nodes()) {
            Map<Integer, Long> memory = new HashMap<>();
            for (Gpu gpu : node.node().gpus()) {
                memory.put(gpu.index(), gpu.memoryMib());
            }
            gpuMemory.put(node.node().name(), memory);
        }
        Map<String, ExperimentSpec> specs = cluster.specs(held.keySet());
        int changed = 0;
        for (ClusterRepository.Held gang : snapshot.held()) {
            String id = gang.experiment().id();
            try {
                if (step(gang, specs.get(id), busyNodes, gpuMemory, stillStopping.contains(id), now)) {
                    changed++;
                }
            }
            catch (RuntimeException e) {
                log.warn("could not reconcile experiment {}: {}", gang.experiment().id(), e.getMessage());
            }
        }
        return changed;
    }

    /** Frees the ports of gangs that hold no GPUs and have no workers left. */
    private void releasePorts(Set<String> held, Set<String> withWorkers)
    {
        Set<String> keep = new HashSet<>(held);
        keep.addAll(withWorkers);
        try {
            int freed = ports.releaseAllBut(keep);
            if (freed > 0) {
                log.debug("freed {} ports of ended gangs", freed);
            }
        }
        catch (RuntimeException e) {
            log.warn("could not free the ports of ended gangs: {}", e.getMessage());
        }
    }

    /** Frees device reservations no gang needs, and records the devices the reserved GPUs were given (for `tranche nodes`). */
    private void syncDevices(ClusterRepository.Snapshot snapshot)
    {
        Map<String, Set<Integer>> heldGpus = new HashMap<>();
        for (ClusterRepository.Held gang : snapshot.held()) {
            for (ReplicaPlacement replica : gang.replicas()) {
                heldGpus.computeIfAbsent(replica.node(), node -> new HashSet<>()).addAll(replica.gpuMilli().keySet());
            }
        }
        try {
            cluster.recordDevices(backend.syncDevices(heldGpus));
        }
        catch (RuntimeException e) {
            log.warn("could not sync GPU reservations: {}", e.getMessage());
        }
    }

    /** @param hasWorkers whether the experiment has workers, of an earlier attempt or still going away, that a launch must wait for */
    private boolean step(ClusterRepository.Held gang, ExperimentSpec spec, Set<String> busyNodes, Map<String, Map<Integer, Long>> gpuMemory,
            boolean hasWorkers, Instant now)
    {
        String id = gang.experiment().id();
        RunAttempt run = new RunAttempt(id, gang.attempt());
        ExperimentState state = gang.experiment().state();
        for (ReplicaPlacement replica : gang.replicas()) {
            if (!nodeAlive.test(replica.node())) {
                requeue(run, state, Duration.ZERO, "node " + replica.node() + " was lost; back in the queue, it resumes from its last checkpoint");
                return true;
            }
        }
        GangStatus status = backend.status(run);
        // a gang not yet all up that misses a worker (a launch cut short) is still starting, as far as the timeout goes
        boolean notUp = status.phase() == GangStatus.Phase.GONE || status.phase() == GangStatus.Phase.STARTING || status.phase() == GangStatus.Phase.UNREACHABLE
                || status.phase() == GangStatus.Phase.WORKER_LOST && state != ExperimentState.RUNNING;
        if (state == ExperimentState.SCHEDULED && notUp && startingFor(gang, run, now) >= startTimeout.toSeconds()) {
            // workers that never all come up (an image that cannot be pulled, a launch that keeps failing) would hold the GPUs for ever
            String why = "its workers did not all start within " + Durations.format(startTimeout) + " (" + status.reason() + ")";
            if (status.phase() == GangStatus.Phase.UNREACHABLE) {
                // a worker's node stopped reporting: the node failed, not the run
                requeue(run, state, Duration.ZERO, why + "; not counted as a failed attempt, back in the queue");
                return true;
            }
            failAttempt(id, state, spec, why);
            backend.stop(run, Duration.ZERO);
            return true;
        }
        switch (status.phase()) {
            case GONE -> {
                if (state == ExperimentState.RUNNING) {
                    publish(experiments.transition(id, EnumSet.of(state), ExperimentState.PENDING,
                            "its workers are gone (" + status.reason() + "); back in the queue, it resumes from its last checkpoint"));
                    return true;
                }
                if (hasWorkers) {
                    return false;   // its previous attempt's workers are still stopping (checkpointing)
                }
                for (ReplicaPlacement replica : gang.replicas()) {
                    if (busyNodes.contains(replica.node())) {
                        return false;   // preempted workers are still checkpointing there
                    }
                }
                Optional<String> refused = refusedDataset(spec);
                if (refused.isPresent()) {
                    publish(experiments.transition(id, EnumSet.of(state), ExperimentState.FAILED, refused.get()));
                    return true;
                }
                backend.launch(launchRequest(gang, spec, gpuMemory, allocatePorts(gang)));
                return true;
            }
            case STARTING, UNREACHABLE -> {
                if (state != ExperimentState.RUNNING) {
                    return false;
                }
                // a gang that was all up and no longer is (a worker's pod in phase Unknown: its node stopped reporting it)
                // would hold its GPUs for ever while the others wait for that worker: give it the start timeout to come back
                Instant since = notUpSince.computeIfAbsent(run, ignored -> now);
                if (Duration.between(since, now).compareTo(startTimeout) < 0) {
                    return false;
                }
                notUpSince.remove(run);
                requeue(run, state, grace, "its workers were not all up for " + Durations.format(startTimeout) + " (" + status.reason()
                        + "); back in the queue, it resumes from its last checkpoint");
                return true;
            }
            case LOST -> {
                // at once, not after a grace period: the device is no longer reserved for these workers, others may get it now
                requeue(run, state, Duration.ZERO, status.reason() + "; back in the queue, it resumes from its last checkpoint");
                return true;
            }
            case WORKER_LOST -> {
                if (state != ExperimentState.RUNNING) {
                    return false;   // never all up: it waits as a starting gang does, within the start timeout
                }
                // the others would wait for the lost one for ever: stop them, with the grace to checkpoint; not their fault, so not counted
                requeue(run, state, grace, status.reason() + "; back in the queue, it resumes from its last checkpoint");
                return true;
            }
            case RUNNING -> {
                notUpSince.remove(run);
                if (state == ExperimentState.SCHEDULED) {
                    publish(experiments.transition(id, EnumSet.of(state), ExperimentState.RUNNING, "workers running (" + status.reason() + ")"));
                    return true;
                }
                return false;
            }
            case SUCCEEDED -> {
                publish(experiments.transition(id, EnumSet.of(state), ExperimentState.SUCCEEDED, "training finished: " + status.reason()));
                backend.stop(run, Duration.ZERO);
                return true;
            }
            case FAILED -> {
                failAttempt(id, state, spec, status.reason());
                backend.stop(run, Duration.ZERO);
                return true;
            }
        }
        return false;
    }

    /** Seconds the gang has had to start: since its placement, and at most since this controller first saw it. */
    private long startingFor(ClusterRepository.Held gang, RunAttempt run, Instant now)
    {
        long watched = Duration.between(firstSeen.getOrDefault(run, now), now).toSeconds();
        return Math.min(gang.placedSecondsAgo(), watched);
    }

    /** Counts a failed attempt: back to the queue while the experiment has retries left, FAILED after its last. */
    private void failAttempt(String id, ExperimentState state, ExperimentSpec spec, String why)
    {
        int failures = experiments.failedAttempts(id) + 1;
        int attempts = spec.maxRetries() + 1;
        if (failures < attempts) {
            publish(experiments.transitionAfterFailure(id, EnumSet.of(state), ExperimentState.PENDING,
                    "attempt " + failures + " of " + attempts + " failed: " + why + "; retrying from the last checkpoint"));
        }
        else {
            publish(experiments.transitionAfterFailure(id, EnumSet.of(state), ExperimentState.FAILED,
                    "failed after " + attempts + (attempts == 1 ? " attempt: " : " attempts: ") + why));
        }
    }

    /** Why the workers may not read the experiment's data set now, if they may not. */
    private Optional<String> refusedDataset(ExperimentSpec spec)
    {
        if (datasetRoots.isEmpty()) {
            return Optional.empty();
        }
        try {
            datasetRoots.get().check(spec.training().dataset().location());
            return Optional.empty();
        }
        catch (IllegalArgumentException e) {
            return Optional.of("not launched: " + e.getMessage() + " (checked again at launch: the location now leads outside those folders)");
        }
    }

    /** The gang's ports on each of its hosts, recorded before any worker starts: a new choice each launch, its own old ones included. */
    private GangPorts allocatePorts(ClusterRepository.Held gang)
    {
        String id = gang.experiment().id();
        Set<String> hosts = new HashSet<>();
        gang.replicas().forEach(replica -> hosts.add(backend.portHost(replica.node())));
        GangPorts chosen = portAllocator.allocate(hosts, ports.takenByOthers(id), backend::portFree);
        ports.assign(id, hosts, chosen);
        return chosen;
    }

    private LaunchRequest launchRequest(ClusterRepository.Held gang, ExperimentSpec spec, Map<String, Map<Integer, Long>> gpuMemory, GangPorts gangPorts)
    {
        List<ReplicaLaunch> replicas = new ArrayList<>();
        for (int rank = 0; rank < gang.replicas().size(); rank++) {
            ReplicaPlacement replica = gang.replicas().get(rank);
            long memory = replica.gpuMilli().keySet().stream()
                    .map(index -> gpuMemory.getOrDefault(replica.node(), Map.of()).getOrDefault(index, 0L))
                    .findFirst().orElse(0L);
            replicas.add(new ReplicaLaunch(rank, replica.node(), replica.gpuMilli(), replica.cpuMilli(), replica.memoryMib(), memory));
        }
        String json = ExperimentSpecs.toWorkerJson(spec);
        String id = gang.experiment().id();
        return new LaunchRequest(id, gang.attempt(), gang.experiment().project(), json, replicas, schedulerAddress, credentials.issue(id), gangPorts);
    }

    /** Stops the attempt's workers with {@code grace} and puts the experiment back in the queue, no attempt counted (not the run's fault). */
    private void requeue(RunAttempt run, ExperimentState state, Duration grace, String reason)
    {
        backend.stop(run, grace);
        publish(experiments.transition(run.experimentId(), EnumSet.of(state), ExperimentState.PENDING, reason));
    }

    private void publish(ExperimentChange change)
    {
        events.publish(change);
    }
}

package dev.tranche.scheduler.core;

import dev.tranche.scheduler.core.model.ClusterSnapshot;
import dev.tranche.scheduler.core.model.Gpu;
import dev.tranche.scheduler.core.model.Node;
import dev.tranche.scheduler.core.model.PendingExperiment;
import dev.tranche.scheduler.core.model.ReplicaPlacement;
import dev.tranche.scheduler.core.model.RunningAllocation;
import dev.tranche.scheduler.core.model.WorkloadShape;
import dev.tranche.scheduler.core.placement.ClusterState;
import dev.tranche.scheduler.core.placement.FitReport;
import dev.tranche.scheduler.core.placement.PlacementPolicy;
import dev.tranche.scheduler.core.placement.Placer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The working state of one cycle: the cluster with running work applied, quota use, and the
 * decisions so far. Actions read and change it in order; nothing outlives the cycle.
 */
final class Session
{
    /** Which running work of a project counts against its deserved share first. */
    private static final Comparator<RunningAllocation> PROTECTION_ORDER = (left, right) -> {
        if (left.preemptible() != right.preemptible()) {
            return left.preemptible() ? 1 : -1;
        }
        if (left.priority() != right.priority()) {
            return Integer.compare(right.priority(), left.priority());
        }
        if (left.startSequence() != right.startSequence()) {
            return Long.compare(left.startSequence(), right.startSequence());
        }
        return left.experimentId().compareTo(right.experimentId());
    };

    /** Within a project: higher priority, then starving (oldest first), then arrival. */
    final Comparator<PendingExperiment> jobOrder;

    final ClusterSnapshot snapshot;
    final SchedulingOptions options;
    final ClusterState state;
    final Placer placer;
    final Statement statement;
    final QuotaLedger ledger;
    final Map<String, RunningAllocation> running;
    /** Running work within its project's deserved share: never preempted. */
    final Set<String> protectedRunning = new HashSet<>();
    final Set<String> evicted = new HashSet<>();
    final Map<String, Long> runningGpuMilli;
    final Map<String, Placement> placements = new LinkedHashMap<>();
    final List<Preemption> preemptions = new ArrayList<>();
    final Map<String, Unplaced> unplaced = new LinkedHashMap<>();
    /** In-quota work that did not fit: candidates for reclaim. */
    final List<PendingExperiment> starvedInQuota = new ArrayList<>();
    /** Projects whose later work waits for a starving experiment, by the experiment it waits for. */
    final Map<String, PendingExperiment> heldFor = new LinkedHashMap<>();
    /**
     * Gangs that found no room during allocate, with the explanation. Allocate only takes resources,
     * so a gang shape that did not fit once will not fit later in the same round: later experiments
     * of that shape skip the search.
     */
    final Map<GangShape, String> noRoom = new HashMap<>();
    private final long referenceGpuMemoryMib;

    record GangShape(dev.tranche.scheduler.core.model.ResourceRequest request, int replicas)
    {
        static GangShape of(PendingExperiment job)
        {
            return new GangShape(job.request(), job.replicas());
        }
    }

    Session(ClusterSnapshot snapshot, SchedulingOptions options, PlacementPolicy policy)
    {
        this.snapshot = snapshot;
        this.options = options;
        int expected = snapshot.running().size() * 4 / 3 + 16;
        this.running = new LinkedHashMap<>(expected);
        this.runningGpuMilli = new HashMap<>(expected);
        this.state = new ClusterState(snapshot.nodes());
        long cpu = 0;
        long memory = 0;
        long gpuMemory = 0;
        for (Node node : snapshot.nodes()) {
            cpu += node.cpuMilli();
            memory += node.memoryMib();
            for (Gpu gpu : node.gpus()) {
                if (gpu.memoryMib() > 0 && (gpuMemory == 0 || gpu.memoryMib() < gpuMemory)) {
                    gpuMemory = gpu.memoryMib();
                }
            }
        }
        this.referenceGpuMemoryMib = gpuMemory;
        this.ledger = new QuotaLedger(snapshot.quotas(), snapshot.departments(), state.totalGpuMilli(), cpu, memory);
        List<ReplicaPlacement> replicas = new ArrayList<>();
        for (RunningAllocation allocation : snapshot.running()) {
            replicas.addAll(allocation.replicas());
        }
        try {
            state.allocateAll(replicas);
        }
        catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(culprit(snapshot, e), e);
        }
        Map<String, long[]> use = new LinkedHashMap<>();
        for (RunningAllocation allocation : snapshot.running()) {
            running.put(allocation.experimentId(), allocation);
            long gpu = allocation.gpuMilli();
            runningGpuMilli.put(allocation.experimentId(), gpu);
            long[] total = use.computeIfAbsent(allocation.project(), ignored -> new long[3]);
            total[0] += gpu;
            total[1] += allocation.cpuMilli();
            total[2] += allocation.memoryMib();
        }
        use.forEach((project, total) -> ledger.add(project, total[0], total[1], total[2]));
        classifyRunning();
        List<WorkloadShape> workload = snapshot.workload().isEmpty() ? learnWorkload(snapshot) : snapshot.workload();
        this.placer = new Placer(state, policy.open(state, workload), new SplittableRandom(options.seed()));
        this.statement = new Statement(state, placer);
        long starvationAge = options.starvationAge();
        this.jobOrder = Comparator.comparingInt(PendingExperiment::priority).reversed()
                .thenComparing(job -> job.age() < starvationAge)
                .thenComparing(Comparator.comparingLong((PendingExperiment job) -> job.age() >= starvationAge ? job.age() : 0).reversed())
                .thenComparingLong(PendingExperiment::arrivalSequence)
                .thenComparing(PendingExperiment::id);
    }

    /** Slow path for a broken snapshot: replays the running work one experiment at a time to name the first that does not fit. */
    private static String culprit(ClusterSnapshot snapshot, IllegalArgumentException failure)
    {
        ClusterState replay = new ClusterState(snapshot.nodes());
        for (RunningAllocation allocation : snapshot.running()) {
            try {
                allocation.replicas().forEach(replay::allocate);
            }
            catch (IllegalArgumentException e) {
                return "running experiment " + allocation.experimentId() + ": " + e.getMessage();
            }
        }
        return failure.getMessage();
    }

    /**
     * Marks each project's running work that fits in its deserved share as protected: non-preemptible
     * first, then higher priority, then the longest running.
     */
    private void classifyRunning()
    {
        Map<String, List<RunningAllocation>> byProject = new LinkedHashMap<>();
        for (RunningAllocation allocation : running.values()) {
            byProject.computeIfAbsent(allocation.project(), ignored -> new ArrayList<>()).add(allocation);
        }
        byProject.forEach((project, allocations) -> {
            long deserved = ledger.quota(project).deservedMilliGpu();
            if (ledger.used(project) <= deserved) {
                // the whole project fits its deserved share: no need to rank
                allocations.forEach(allocation -> protectedRunning.add(allocation.experimentId()));
                return;
            }
            allocations.sort(PROTECTION_ORDER);
            long cumulative = 0;
            for (RunningAllocation allocation : allocations) {
                cumulative += runningGpuMilli.get(allocation.experimentId());
                if (!allocation.preemptible() || cumulative <= deserved) {
                    protectedRunning.add(allocation.experimentId());
                }
            }
        });
    }

    /** Without a given workload, expect more of what is pending and running now. */
    private static List<WorkloadShape> learnWorkload(ClusterSnapshot snapshot)
    {
        Map<dev.tranche.scheduler.core.model.ResourceRequest, Double> counts = new LinkedHashMap<>();
        for (PendingExperiment job : snapshot.pending()) {
            counts.merge(job.request(), (double) job.replicas(), Double::sum);
        }
        List<WorkloadShape> shapes = new ArrayList<>();
        counts.forEach((request, count) -> shapes.add(new WorkloadShape(request, count)));
        return shapes;
    }

    /**
     * GPU milli the gang will count for. A memory-sized request is estimated against the smallest GPU,
     * the most it can cost; the actual amount is checked again once placed.
     */
    long demandMilli(PendingExperiment job)
    {
        return job.request().gpu().totalMilli(referenceGpuMemoryMib) * job.replicas();
    }

    boolean isStarving(PendingExperiment job)
    {
        return job.age() >= options.starvationAge();
    }

    void recordPlacement(PendingExperiment job, List<ReplicaPlacement> replicas, List<String> afterEvicting)
    {
        statement.commit();
        placements.put(job.id(), new Placement(job.id(), replicas, afterEvicting));
        unplaced.remove(job.id());
        long gpu = 0;
        long cpu = 0;
        long memory = 0;
        for (ReplicaPlacement replica : replicas) {
            gpu += replica.totalGpuMilli();
            cpu += replica.cpuMilli();
            memory += replica.memoryMib();
        }
        ledger.add(job.project(), gpu, cpu, memory);
    }

    void recordEviction(RunningAllocation victim, PendingExperiment forJob, Preemption.Kind kind, String reason)
    {
        evicted.add(victim.experimentId());
        preemptions.add(new Preemption(victim.experimentId(), forJob.id(), kind, reason));
        ledger.remove(victim.project(), victim.gpuMilli(), victim.cpuMilli(), victim.memoryMib());
    }

    /**
     * "no node fits 1 replica (1 GPU, 4.0 CPU, 8192 MiB): 12 nodes lack free GPU, 3 lack CPU", or for a
     * gang that fits only in part "only 2 of 3 replicas (...) fit at once, on 2 nodes; 5 nodes lack CPU".
     */
    String noFitMessage(PendingExperiment job)
    {
        FitReport report = placer.explain(job.request());
        if (job.replicas() > 1 && report.fittingNodes() > 0) {
            long fit = 0;
            int nodes = 0;
            for (int node = 0; node < state.nodeCount(); node++) {
                int capacity = state.capacity(node, job.request());
                fit += capacity;
                nodes += capacity > 0 ? 1 : 0;
            }
            String message = String.format("only %d of %d replicas (%s each) fit at once, on %d %s",
                    fit, job.replicas(), job.request(), nodes, nodes == 1 ? "node" : "nodes");
            return report.nodesByFailure().isEmpty() ? message : message + "; " + report.summary();
        }
        String replicas = job.replicas() == 1 ? "1 replica" : job.replicas() + " replicas";
        return String.format("no node fits %s (%s): %s", replicas, job.request(), report.summary());
    }

    Decisions decisions()
    {
        List<Unplaced> reasons = new ArrayList<>();
        for (PendingExperiment job : snapshot.pending()) {
            if (!placements.containsKey(job.id())) {
                Unplaced reason = unplaced.get(job.id());
                reasons.add(reason != null ? reason : new Unplaced(job.id(), UnplacedReason.NO_FIT, noFitMessage(job)));
            }
        }
        return new Decisions(new ArrayList<>(placements.values()), preemptions, reasons);
    }
}

package dev.tranche.scheduler.core;

import dev.tranche.scheduler.core.model.ClusterSnapshot;
import dev.tranche.scheduler.core.model.GpuRequest;
import dev.tranche.scheduler.core.model.PendingExperiment;
import dev.tranche.scheduler.core.model.ReplicaPlacement;
import dev.tranche.scheduler.core.model.ResourceRequest;
import dev.tranche.scheduler.core.model.RunningAllocation;
import dev.tranche.scheduler.core.model.WorkloadShape;
import dev.tranche.scheduler.core.placement.ClusterState;
import dev.tranche.scheduler.core.placement.FitReport;
import dev.tranche.scheduler.core.placement.PlacementPolicy;
import dev.tranche.scheduler.core.placement.Placer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The working state of one cycle: the cluster with running work applied, quota use, and the
 * decisions so far. Actions read and change it in order; nothing outlives the cycle except what the
 * {@link CycleMemo} keeps to load the next snapshot faster, which never changes a decision.
 */
final class Session
        implements VictimFilter.SessionView
{
    /**
     * Which running work of a project counts against its deserved share first, given each one's rank
     * in the ordering: non-preemptible, then higher priority, then the least attained service (lower
     * rank), then the longest running.
     */
    private static int protectionOrder(RunningAllocation left, long leftRank, RunningAllocation right, long rightRank)
    {
        if (left.preemptible() != right.preemptible()) {
            return left.preemptible() ? 1 : -1;
        }
        if (left.priority() != right.priority()) {
            return Integer.compare(right.priority(), left.priority());
        }
        if (leftRank != rightRank) {
            return Long.compare(leftRank, rightRank);
        }
        if (left.startSequence() != right.startSequence()) {
            return Long.compare(left.startSequence(), right.startSequence());
        }
        return left.experimentId().compareTo(right.experimentId());
    }

    /** The order of experiments within a queue ({@link Ordering#jobOrder}). */
    private final Comparator<PendingExperiment> jobOrder;
    private final Ordering ordering;
    /** The ordering's rank of each pending experiment, computed once. */
    private final IdentityHashMap<PendingExperiment, Long> pendingRank;
    private final List<PendingExperiment> pendingInJobOrder;

    private final ClusterSnapshot snapshot;
    private final SchedulingOptions options;
    private final ClusterState state;
    private final Placer placer;
    private final Statement statement;
    private final QuotaLedger ledger;
    /** Whether the running experiment at that position of the snapshot is within its project's deserved share: never preempted. */
    private final boolean[] protectedAt;
    private List<RunningAllocation> borrowable;
    // the running work as loaded this cycle (the memo's table: valid until the next cycle loads, and a
    // session lives one cycle), and where each borrowable allocation sits in it: the victim search
    // reads their resolved rows from there
    private final CycleMemo.Table runningTable;
    // identity maps sized for what they will hold: a map sized for every one of ~50,000 running
    // experiments was a megabyte of garbage per cycle, and a steady cycle often borrows nothing
    private IdentityHashMap<RunningAllocation, Integer> borrowableIndex = new IdentityHashMap<>(0);
    private final IdentityHashMap<RunningAllocation, Long> runningRank;
    private final Set<String> evicted = new HashSet<>();
    // victimCandidates' answers by filter keys, for one pool and filter list while nothing is evicted
    private final Map<List<Object>, List<RunningAllocation>> candidatesByKeys = new HashMap<>();
    private List<RunningAllocation> candidatesPool;
    private List<VictimFilter> candidatesFilters;
    private int candidatesEvicted = -1;
    private final Map<String, Placement> placements = new LinkedHashMap<>();
    private final List<Preemption> preemptions = new ArrayList<>();
    private final Map<String, Unplaced> unplaced = new LinkedHashMap<>();
    /** In-quota work that did not fit: candidates for reclaim. */
    private final List<PendingExperiment> starvedInQuota = new ArrayList<>();
    /**
     * Gangs that found no room during allocate, with the explanation. Allocate only takes resources,
     * so a gang shape that did not fit once will not fit later in the same round: later experiments
     * of that shape skip the search.
     */
    private final Map<GangShape, NoFit> noRoom = new HashMap<>();
    /** Gang shapes the cluster could not hold even empty, with the explanation; empty when it could. */
    private final Map<GangShape, Optional<NoFit>> neverFits;
    private final CycleMemo memo;
    private final long referenceGpuMemoryMib;

    /**
     * What a gang asks for, as a map key: many jobs share a few shapes, and every action looks shapes
     * up per job, so the hash is computed once and each job's shape once a cycle ({@link #shapeOf}).
     */
    static final class GangShape
    {
        private final ResourceRequest request;
        private final int replicas;
        private final int hash;

        GangShape(ResourceRequest request, int replicas)
        {
            this.request = request;
            this.replicas = replicas;
            this.hash = 31 * request.hashCode() + replicas;
        }

        static GangShape of(PendingExperiment job)
        {
            return new GangShape(job.request(), job.replicas());
        }

        ResourceRequest request()
        {
            return request;
        }

        int replicas()
        {
            return replicas;
        }

        @Override
        public boolean equals(Object o)
        {
            return this == o || (o instanceof GangShape other && hash == other.hash && replicas == other.replicas && request.equals(other.request));
        }

        @Override
        public int hashCode()
        {
            return hash;
        }
    }

    private final IdentityHashMap<PendingExperiment, GangShape> shapes;
    private final Map<GangShape, GangShape> internedShapes = new HashMap<>();

    /** The job's gang shape, one instance per shape this cycle. */
    GangShape shapeOf(PendingExperiment job)
    {
        GangShape shape = shapes.get(job);
        if (shape == null) {
            shape = internedShapes.computeIfAbsent(GangShape.of(job), fresh -> fresh);
            shapes.put(job, shape);
        }
        return shape;
    }

    Session(ClusterSnapshot snapshot, SchedulingOptions options, PlacementPolicy policy)
    {
        this(snapshot, options, policy, Ordering.production(), new CycleMemo());
    }

    /** @param memo what earlier cycles resolved; gives the same session as a fresh memo, only faster */
    Session(ClusterSnapshot snapshot, SchedulingOptions options, PlacementPolicy policy, Ordering ordering, CycleMemo memo)
    {
        this.snapshot = snapshot;
        this.options = options;
        // grows as ranks are asked for (often few or none); presized for every running experiment it cost a megabyte a cycle
        this.runningRank = new IdentityHashMap<>(Math.min(snapshot.running().size(), 1024));
        this.shapes = new IdentityHashMap<>(snapshot.pending().size());
        this.ordering = ordering;
        this.state = memo.emptyCluster(snapshot.nodes(), policy.needsTaskKinds());
        this.neverFits = memo.neverFits();
        this.memo = memo;
        CycleMemo.NodeTotals totals = memo.nodeTotals();
        this.referenceGpuMemoryMib = totals.smallestGpuMemoryMib();
        this.ledger = new QuotaLedger(snapshot.quotas(), snapshot.departments(), state.totalGpuMilli(), totals.cpuMilli(), totals.memoryMib());
        CycleMemo.Table table;
        try {
            table = memo.load(snapshot.running(), state);
            state.allocateRows(table.rows, table.node, table.cpu, table.memory, table.gpuStart, table.gpuPosition, table.gpuMilli);
        }
        catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(culprit(snapshot, e), e);
        }
        int projects = memo.projectCount();
        for (int p = 0; p < projects; p++) {
            // a project without running work (or only work that holds nothing) adds zeros: no need
            if (table.projectGpu[p] != 0 || table.projectCpu[p] != 0 || table.projectMemory[p] != 0) {
                ledger.add(memo.projectName(p), table.projectGpu[p], table.projectCpu[p], table.projectMemory[p]);
            }
        }
        this.runningTable = table;
        this.protectedAt = new boolean[table.count];
        classifyRunning(table, memo);
        List<WorkloadShape> workload = snapshot.workload().isEmpty() ? learnWorkload(snapshot, table) : snapshot.workload();
        this.placer = new Placer(state, policy.open(state, workload), new SplittableRandom(options.seed()));
        this.statement = new Statement(state, placer);
        long starvationAge = options.starvationAge();
        List<PendingExperiment> pending = snapshot.pending();
        long[] ranks = new long[pending.size()];
        this.pendingRank = new IdentityHashMap<>(pending.size());
        if (ordering.rank() != JobRank.ARRIVAL) {
            for (int i = 0; i < ranks.length; i++) {
                ranks[i] = ordering.rank().rank(pending.get(i).id(), snapshot.history());
                pendingRank.put(pending.get(i), ranks[i]);
            }
        }
        this.jobOrder = ordering.jobOrder(this::rank, starvationAge);
        this.pendingInJobOrder = inJobOrder(pending, ranks, starvationAge);
    }

    /**
     * The backlog sorted once in the job order, ranks read from an array: every action wants some of
     * it in that order, and sorting each part with rank lookups per comparison was a fifth of a
     * replay's time. Filtering this list gives exactly what sorting the part would.
     */
    private static List<PendingExperiment> inJobOrder(List<PendingExperiment> pending, long[] ranks, long starvationAge)
    {
        Integer[] order = new Integer[pending.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (left, right) -> Ordering.compareJobs(pending.get(left), ranks[left], pending.get(right), ranks[right], starvationAge));
        PendingExperiment[] sorted = new PendingExperiment[order.length];
        for (int i = 0; i < order.length; i++) {
            sorted[i] = pending.get(order[i]);
        }
        return List.of(sorted);
    }

    @Override
    public long rank(PendingExperiment job)
    {
        Long rank = pendingRank.get(job);
        // every pending experiment of the snapshot is ranked up front; with arrival order every rank is 0
        return rank != null ? rank : ordering.rank().rank(job.id(), snapshot.history());
    }

    @Override
    public long rank(RunningAllocation allocation)
    {
        // victim filters ask per preemptor and candidate: each running experiment is ranked once
        return runningRank.computeIfAbsent(allocation, running -> ordering.rank().rank(running.experimentId(), snapshot.history()));
    }

    /**
     * The work of {@code pool} (borrowable work, in the order to try it) that every filter admits as
     * a victim for {@code preemptor} and that is not evicted yet.
     */
    List<RunningAllocation> victimCandidates(List<RunningAllocation> pool, List<VictimFilter> filters, PendingExperiment preemptor)
    {
        // preemptors with equal filter keys are admitted the same candidates (VictimFilter's
        // contract): the pool is scanned once per key until the next eviction, not once per preemptor
        if (pool != candidatesPool || filters != candidatesFilters || evicted.size() != candidatesEvicted) {
            candidatesByKeys.clear();
            candidatesPool = pool;
            candidatesFilters = filters;
            candidatesEvicted = evicted.size();
        }
        List<Object> keys = new ArrayList<>(filters.size());
        for (VictimFilter filter : filters) {
            keys.add(filter.preemptorKey(this, preemptor));
        }
        List<RunningAllocation> known = candidatesByKeys.get(keys);
        if (known != null) {
            return known;
        }
        List<RunningAllocation> candidates = new ArrayList<>();
        boolean anyEvicted = !evicted.isEmpty();
        for (RunningAllocation candidate : pool) {
            if ((!anyEvicted || !evicted.contains(candidate.experimentId())) && admitsAll(filters, preemptor, candidate)) {
                candidates.add(candidate);
            }
        }
        List<RunningAllocation> result = Collections.unmodifiableList(candidates);
        candidatesByKeys.put(keys, result);
        return result;
    }

    private boolean admitsAll(List<VictimFilter> filters, PendingExperiment preemptor, RunningAllocation candidate)
    {
        for (VictimFilter filter : filters) {
            if (!filter.admits(this, preemptor, candidate)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Preemptors with equal keys get the same candidates from {@link #victimCandidates} and, asking
     * for the same gang, the same outcome of a victim search while nothing else changes.
     */
    List<Object> victimSearchKey(List<VictimFilter> filters, PendingExperiment preemptor)
    {
        List<Object> key = new ArrayList<>(filters.size() + 1);
        key.add(shapeOf(preemptor));
        for (VictimFilter filter : filters) {
            key.add(filter.preemptorKey(this, preemptor));
        }
        return key;
    }

    /** Slow path for a broken snapshot: replays the running work one experiment at a time to name the first that does not fit. */
    private static String culprit(ClusterSnapshot snapshot, IllegalArgumentException failure)
    {
        ClusterState replay = new ClusterState(snapshot.nodes(), false);
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
     * Marks each project's running work that fits in its deserved share as protected, in
     * {@link #protectionOrder}: the guarantee covers a project's least served work first, so what runs
     * on borrowed GPUs (and may be reclaimed or preempted by rank) is its most served work, as least
     * attained service orders the queue. Longest running first among equals keeps the restart cost low.
     */
    private void classifyRunning(CycleMemo.Table table, CycleMemo memo)
    {
        List<RunningAllocation> running = snapshot.running();
        int projects = memo.projectCount();
        boolean[] ranked = new boolean[projects];
        boolean anyRanked = false;
        for (int p = 0; p < projects; p++) {
            String project = memo.projectName(p);
            // a project that fits its deserved share whole needs no ranking
            ranked[p] = ledger.used(project) > ledger.quota(project).deservedMilliGpu();
            anyRanked |= ranked[p];
        }
        List<List<Integer>> members = new ArrayList<>(projects);
        for (int p = 0; p < projects; p++) {
            members.add(ranked[p] ? new ArrayList<>() : null);
        }
        if (!anyRanked) {
            Arrays.fill(protectedAt, true);
            return;
        }
        for (int a = 0; a < table.count; a++) {
            int project = table.project[a];
            if (!ranked[project]) {
                protectedAt[a] = true;
            }
            else {
                members.get(project).add(a);
            }
        }
        long[] ranks = new long[table.count];
        for (int p = 0; p < projects; p++) {
            if (!ranked[p]) {
                continue;
            }
            long deserved = ledger.quota(memo.projectName(p)).deservedMilliGpu();
            List<Integer> order = members.get(p);
            // each member ranked once; with arrival order every rank is 0 and only the rest decides
            if (ordering.rank() != JobRank.ARRIVAL) {
                for (int position : order) {
                    // not through rank(): its cache is for the few victim candidates a cycle looks at
                    ranks[position] = ordering.rank().rank(running.get(position).experimentId(), snapshot.history());
                }
            }
            order.sort((left, right) -> protectionOrder(running.get(left), ranks[left], running.get(right), ranks[right]));
            long cumulative = 0;
            for (int position : order) {
                cumulative += table.gpuOf[position];
                if (!table.preemptible[position] || cumulative <= deserved) {
                    protectedAt[position] = true;
                }
            }
        }
    }

    /**
     * Running work that reclaim and preemption may take: preemptible and not protected, cheapest to
     * lose first (lowest priority, then the most recently started). Computed once per cycle.
     */
    List<RunningAllocation> borrowable()
    {
        if (borrowable == null) {
            List<RunningAllocation> running = snapshot.running();
            int[] positions = new int[running.size()];
            int count = 0;
            for (int i = 0; i < running.size(); i++) {
                if (runningTable.preemptible[i] && !protectedAt[i]) {
                    positions[count++] = i;
                }
            }
            List<RunningAllocation> candidates = new ArrayList<>(count);
            borrowableIndex = new IdentityHashMap<>(count);
            for (int k = 0; k < count; k++) {
                candidates.add(running.get(positions[k]));
                borrowableIndex.put(running.get(positions[k]), positions[k]);
            }
            candidates.sort(ReclaimAction.VICTIM_ORDER);
            borrowable = Collections.unmodifiableList(candidates);
        }
        return borrowable;
    }

    /** The loaded running work; see {@link #borrowableIndex(RunningAllocation)}. */
    CycleMemo.Table runningTable()
    {
        return runningTable;
    }

    /** Where a borrowable allocation's rows are in {@link #runningTable()}, or -1 for any other. */
    int borrowableIndex(RunningAllocation allocation)
    {
        Integer index = borrowableIndex.get(allocation);
        return index == null ? -1 : index;
    }

    /**
     * Without a given workload, expect more of what is pending and running now: each pending replica
     * (those behind the window included) and each running replica counts once (a running replica's request is read back from what it
     * holds). Running work keeps the estimate stable when the queue is short.
     */
    private static List<WorkloadShape> learnWorkload(ClusterSnapshot snapshot, CycleMemo.Table table)
    {
        // sums in one-element arrays, not boxed: thousands of additions a cycle
        Map<ResourceRequest, double[]> counts = new LinkedHashMap<>();
        for (PendingExperiment job : snapshot.pending()) {
            counts.computeIfAbsent(job.request(), ignored -> new double[1])[0] += job.replicas();
        }
        for (WorkloadShape shape : snapshot.backlog()) {
            counts.computeIfAbsent(shape.request(), ignored -> new double[1])[0] += shape.weight();
        }
        // many running replicas look alike: count them by what they hold, then read the request back once per kind
        // a large cluster is sampled with a fixed stride: the mix is what matters, and the stride keeps it deterministic
        // the table has what each replica holds in flat arrays (GPU entries in device index order), so
        // sampling reads no records
        int stride = Math.max(1, table.count / RUNNING_SAMPLE);
        Map<HeldKind, double[]> held = new LinkedHashMap<>();
        for (int a = 0; a < table.count; a += stride) {
            for (int r = table.firstRow[a]; r < table.firstRow[a + 1]; r++) {
                int from = table.gpuStart[r];
                int gpus = table.gpuStart[r + 1] - from;
                HeldKind key = new HeldKind(gpus, gpus == 0 ? 0 : table.gpuMilli[from], table.cpu[r], table.memory[r]);
                held.computeIfAbsent(key, ignored -> new double[1])[0] += stride;
            }
        }
        held.forEach((key, count) -> counts.computeIfAbsent(key.request(), ignored -> new double[1])[0] += count[0]);
        List<WorkloadShape> shapes = new ArrayList<>();
        counts.forEach((request, count) -> shapes.add(new WorkloadShape(request, count[0])));
        return shapes;
    }

    private static final int RUNNING_SAMPLE = 4096;

    /** What a running replica holds: how many GPUs, the milli on the first (by device index), CPU and memory. */
    private record HeldKind(int gpus, int firstGpuMilli, long cpuMilli, long memoryMib)
    {
        /** The request that would hold this: a fraction of one GPU, whole GPUs, or none. */
        ResourceRequest request()
        {
            GpuRequest gpu;
            if (gpus == 0) {
                gpu = GpuRequest.none();
            }
            else if (gpus == 1 && firstGpuMilli < GpuRequest.MILLI_PER_GPU) {
                gpu = GpuRequest.fraction(firstGpuMilli);
            }
            else {
                gpu = GpuRequest.whole(gpus);
            }
            return new ResourceRequest(gpu, cpuMilli, memoryMib);
        }
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

    // What actions read: the cycle's inputs and collaborators (each with its own verbs).

    Comparator<PendingExperiment> jobOrder()
    {
        return jobOrder;
    }

    /** The snapshot's pending experiments in {@link #jobOrder()}. */
    List<PendingExperiment> pendingInJobOrder()
    {
        return pendingInJobOrder;
    }

    Ordering ordering()
    {
        return ordering;
    }

    ClusterSnapshot snapshot()
    {
        return snapshot;
    }

    SchedulingOptions options()
    {
        return options;
    }

    ClusterState state()
    {
        return state;
    }

    Statement statement()
    {
        return statement;
    }

    QuotaLedger ledger()
    {
        return ledger;
    }

    // The cycle's decisions so far, changed only through these verbs.

    /** Why {@code unplaced}'s experiment stays pending this cycle (a later explanation replaces an earlier one). */
    void explain(Unplaced why)
    {
        unplaced.put(why.experimentId(), why);
    }

    Optional<Unplaced> explanation(String experimentId)
    {
        return Optional.ofNullable(unplaced.get(experimentId));
    }

    /** How many experiments this cycle has placed so far: only a placement changes a share. */
    int placementCount()
    {
        return placements.size();
    }

    boolean isPlaced(String experimentId)
    {
        return placements.containsKey(experimentId);
    }

    boolean isEvicted(String experimentId)
    {
        return evicted.contains(experimentId);
    }

    /** In-quota work that found no room: reclaim's candidates. */
    void markStarvedInQuota(PendingExperiment job)
    {
        starvedInQuota.add(job);
    }

    List<PendingExperiment> starvedInQuota()
    {
        return Collections.unmodifiableList(starvedInQuota);
    }

    /** Projects that already hold room for one starving experiment this cycle. */
    private final Set<String> reservedFor = new HashSet<>();

    /**
     * Holds room for a starving gang that found none, one per project a cycle: the nodes expected to
     * free room for its replicas soonest (then those with the most free GPUs) take no other
     * placement for the rest of allocate, so that work behind it (of any project) cannot keep taking
     * what frees up there, while placement goes on everywhere else.
     */
    void reserveFor(PendingExperiment job)
    {
        if (!reservedFor.add(job.project())) {
            return;
        }
        int[] capacity = memo.emptyCapacity(job.request(), state);
        DrainEstimate drain = drainEstimate();
        // soonest drained first, then most free GPUs; ties by node order, so that the same nodes stay
        // held from one cycle to the next while the gang waits: one primitive sort of packed keys
        // (minutes until room: 22 bits, about 8 years; GPU milli not free: 20 bits; node: 21 bits)
        if (candidates == null) {
            // one array for every project's reservation this cycle: a full cluster's node count each time was a fifteenth of its garbage
            candidates = new long[capacity.length];
        }
        long[] candidates = this.candidates;
        int count = 0;
        for (int node = 0; node < capacity.length; node++) {
            if (capacity[node] > 0 && state.schedulable(node) && !state.reserved(node)) {
                long minutes = Math.min(drain.secondsUntilRoom(node, job.request(), Math.min(capacity[node], job.replicas())) / 60, (1L << 22) - 1);
                long busy = (1L << 20) - 1 - Math.min(state.freeGpuMilli(node), (1L << 20) - 1);
                candidates[count++] = (minutes << 41) | (busy << 21) | node;
            }
        }
        Arrays.sort(candidates, 0, count);
        int held = 0;
        for (int i = 0; i < count; i++) {
            if (held >= job.replicas()) {
                break;
            }
            int node = (int) (candidates[i] & ((1L << 21) - 1));
            state.reserve(node);
            held += capacity[node];
        }
    }

    private long[] candidates;
    private DrainEstimate drainEstimate;
    private int drainPlacements;

    /** The cycle's drain estimate, built on first use, with the cycle's placements so far added. */
    private DrainEstimate drainEstimate()
    {
        if (drainEstimate == null) {
            drainEstimate = new DrainEstimate(state, snapshot.history());
            drainEstimate.addRunning(runningTable, evicted);
        }
        if (drainPlacements < placements.size()) {
            int index = 0;
            for (Placement placement : placements.values()) {
                if (index++ >= drainPlacements) {
                    drainEstimate.add(placement.experimentId(), placement.replicas());
                }
            }
            drainPlacements = placements.size();
        }
        return drainEstimate;
    }

    /** Why a gang of this shape found no room this round, if one already failed. */
    Optional<NoFit> noRoom(GangShape shape)
    {
        return Optional.ofNullable(noRoom.get(shape));
    }

    void rememberNoRoom(GangShape shape, NoFit why)
    {
        noRoom.put(shape, why);
    }

    /** Why a gang found no room: the sentence, and the per-node fit counts for one replica behind it. */
    record NoFit(String message, FitReport fit) {}

    /**
     * "no node fits 1 replica (1 GPU, 4.0 CPU, 8192 MiB): 12 nodes lack free GPU, 3 lack CPU", or for a
     * gang that fits only in part "only 2 of 3 replicas (...) fit at once, on 2 nodes; 5 nodes lack CPU".
     */
    NoFit noFit(PendingExperiment job)
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
            String message = "only " + fit + " of " + job.replicas() + " replicas (" + job.request() + " each) fit at once, on " + nodes
                    + (nodes == 1 ? " node" : " nodes");
            return new NoFit(report.nodesByFailure().isEmpty() ? message : message + "; " + report.summary(), report);
        }
        String replicas = job.replicas() == 1 ? "1 replica" : job.replicas() + " replicas";
        // concatenation, not String.format: a long backlog asks this for every shape every cycle
        return new NoFit("no node fits " + replicas + " (" + job.request() + "): " + report.summary(), report);
    }

    /** Why, when no node (or, for a gang, not the whole cluster) could take the gang even if empty. */
    Optional<NoFit> neverFits(PendingExperiment job)
    {
        return neverFits.computeIfAbsent(shapeOf(job), shape -> {
            Placer.EmptyFit empty = placer.explainEmpty(job.request());
            if (empty.replicas() >= job.replicas()) {
                return Optional.empty();
            }
            String failures = empty.report().nodesByFailure().isEmpty() ? "" : ": " + empty.report().summary();
            if (empty.replicas() == 0) {
                String replicas = job.replicas() == 1 ? "1 replica" : "a replica";
                return Optional.of(new NoFit(String.format("no node could ever fit %s (%s), even when empty%s", replicas, job.request(), failures),
                        empty.report()));
            }
            return Optional.of(new NoFit(String.format("even the empty cluster holds only %d of %d replicas (%s each)%s",
                    empty.replicas(), job.replicas(), job.request(), failures.isEmpty() ? "" : ";" + failures.substring(1)), empty.report()));
        });
    }

    Decisions decisions()
    {
        List<Unplaced> reasons = new ArrayList<>();
        for (PendingExperiment job : snapshot.pending()) {
            if (!placements.containsKey(job.id())) {
                Unplaced reason = unplaced.get(job.id());
                if (reason == null) {
                    Optional<NoFit> never = neverFits(job);
                    reason = never.isPresent()
                            ? Unplaced.noFit(job.id(), UnplacedReason.NEVER_FITS, never.get())
                            : Unplaced.noFit(job.id(), UnplacedReason.NO_FIT, noFit(job));
                }
                reasons.add(reason);
            }
        }
        return new Decisions(new ArrayList<>(placements.values()), preemptions, reasons);
    }
}

package dev.tranche.bench;

import dev.tranche.scheduler.core.Decisions;
import dev.tranche.scheduler.core.PendingQueue;
import dev.tranche.scheduler.core.Placement;
import dev.tranche.scheduler.core.SchedulingCycle;
import dev.tranche.scheduler.core.SchedulingOptions;
import dev.tranche.scheduler.core.model.ClusterSnapshot;
import dev.tranche.scheduler.core.model.GpuRequest;
import dev.tranche.scheduler.core.model.Node;
import dev.tranche.scheduler.core.model.PendingExperiment;
import dev.tranche.scheduler.core.model.ProjectQuota;
import dev.tranche.scheduler.core.model.ReplicaPlacement;
import dev.tranche.scheduler.core.model.ResourceRequest;
import dev.tranche.scheduler.core.model.RunningAllocation;
import dev.tranche.scheduler.core.model.ServiceHistory;
import dev.tranche.scheduler.core.placement.PlacementPolicies;

import java.lang.management.ManagementFactory;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static java.util.Objects.requireNonNull;

/**
 * How fast the scheduling cycle is on a large synthetic cluster: {@code nodes} nodes of 8 GPUs and a
 * backlog of {@code pending} experiments (fractions, whole GPUs, gangs) drained by cycles until one
 * places nothing, then a steady state on the drained cluster where each simulated second
 * {@code submissionsPerSecond} experiments arrive, as many running ones finish, and one cycle runs
 * over the running work and the whole queue (new arrivals plus everything still waiting), kept in a
 * {@link PendingQueue} as the server keeps it.
 */
public final class ScaleBenchmark
{
    private static final int GPUS_PER_NODE = 8;
    private static final long NODE_CPU_MILLI = 128_000;
    private static final long NODE_MEMORY_MIB = 1_048_576;
    private static final String PROJECT_PREFIX = "project-";
    private static final int PROJECTS = 8;

    /**
     * @param decisionsPerSecond pending experiments decided (placed or explained) per second of cycle time;
     *         most of them are cheap refusals once the cluster is full, so {@code placementsPerSecond}
     *         (experiments actually placed per second of cycle time) is the headline
     * @param steadyPendingAtStart experiments still queued when the steady state starts (the backlog the
     *         drain could not place); every steady cycle sees them plus what arrived since
     * @param steadyPlacementsPerSecond experiments placed per second of steady cycle time
     * @param drainCycles cycles the drain took (each considers its window of the backlog)
     * @param steadyConsideredMean experiments a steady cycle considered on average (its window)
     * @param lines lines of alike work in the queue at the end
     * @param drainCpuSeconds CPU time of the scheduling thread during the drain: on a machine shared with
     *         other work this, not the wall time, says what one core can do (garbage collection excluded)
     * @param cyclesWithCollection measured steady cycles during which the JVM collected garbage (its
     *         collectors' counts moved): their time includes the pause, which is what sets the p99
     * @param collectionMillis what the collectors report they spent in those cycles, all together
     * @param cycleP99WithoutCollectionMillis the p99 of the other measured cycles: the cycle's own tail
     * @param allocatedMbPerCycle what a measured steady cycle allocated on the heap, on average, in MB
     *         (10^6 bytes): garbage sets how often the JVM collects, so how many cycles a pause lands in
     */
    public record Result(
            int nodes,
            int pending,
            int placed,
            double drainSeconds,
            double drainCpuSeconds,
            double decisionsPerSecond,
            double placementsPerSecond,
            int steadyCycles,
            double cycleP50Millis,
            double cycleP99Millis,
            double cycleMaxMillis,
            double cycleCpuP50Millis,
            int steadyPendingAtStart,
            double steadyPendingMean,
            double steadyPlacedPerCycle,
            double steadyPlacementsPerSecond,
            int drainCycles,
            double steadyConsideredMean,
            int lines,
            int steadyWarmup,
            double firstCycleP50Millis,
            double firstCycleP99Millis,
            int cyclesWithCollection,
            double collectionMillis,
            double cycleP99WithoutCollectionMillis,
            double allocatedMbPerCycle) {}

    private ScaleBenchmark() {}

    public static Result run(int nodes, int pending, int submissionsPerSecond, int steadyCycles, String policyName, long seed)
    {
        return run(nodes, pending, submissionsPerSecond, steadyCycles, 0, policyName, seed, DEFAULT_LINE_WINDOW);
    }

    /** The line window of the server's scheduling loop (SchedulingSettings): the benchmark measures the cycle the server runs. */
    public static final int DEFAULT_LINE_WINDOW = dev.tranche.scheduler.server.SchedulingSettings.DEFAULTS.lineWindow();
    private static final int MAX_LINE_WINDOW = 1024;

    /**
     * As the server does it: the backlog is kept in a {@link PendingQueue} and every cycle is given its
     * window ({@code lineWindow} experiments of each line at first). Timed per cycle: adding that
     * cycle's arrivals to the queue, taking the window, {@link SchedulingCycle#run}, and removing what
     * was placed; making the snapshot's other parts is the caller's cost. {@code steadyWarmup} steady
     * cycles run first, untimed, as in a server that has been up a while; the first
     * {@code steadyCycles} steady cycles after the drain are timed apart as well.
     */
    public static Result run(int nodes, int pending, int submissionsPerSecond, int steadyCycles, int steadyWarmup, String policyName, long seed, int lineWindow)
    {
        requireNonNull(policyName, "policyName is null");
        if (nodes < 1 || pending < 0 || submissionsPerSecond < 0 || steadyCycles < 0 || steadyWarmup < 0 || lineWindow < 1) {
            throw new IllegalArgumentException("nodes and the line window must be >= 1 and the counts >= 0");
        }
        SplittableRandom random = new SplittableRandom(seed);
        List<Node> cluster = new ArrayList<>(nodes);
        for (int i = 0; i < nodes; i++) {
            cluster.add(Node.of(String.format("node-%05d", i), NODE_CPU_MILLI, NODE_MEMORY_MIB, GPUS_PER_NODE, "H100", 81_920));
        }
        List<ProjectQuota> quotas = new ArrayList<>();
        long share = (long) nodes * GPUS_PER_NODE * 1000 / PROJECTS;
        for (int p = 0; p < PROJECTS; p++) {
            quotas.add(ProjectQuota.of(PROJECT_PREFIX + p, share));
        }
        SchedulingCycle cycle = new SchedulingCycle(PlacementPolicies.byName(policyName), SchedulingOptions.defaults().withSeed(seed));
        PendingQueue queue = new PendingQueue(lineWindow, Math.max(lineWindow, MAX_LINE_WINDOW));
        Map<String, RunningAllocation> running = new LinkedHashMap<>();
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        // the HotSpot bean says what a thread allocated; a JVM without it reports no allocation (NaN)
        com.sun.management.ThreadMXBean allocations = threads instanceof com.sun.management.ThreadMXBean bean && bean.isThreadAllocatedMemorySupported()
                && bean.isThreadAllocatedMemoryEnabled() ? bean : null;

        // the drain: the whole backlog arrives at once on an empty cluster; cycles run until one places nothing
        long sequence = 0;
        long startSequence = 0;
        long cpuStart = threads.getCurrentThreadCpuTime();
        long start = System.nanoTime();
        for (int i = 0; i < pending; i++) {
            queue.put(experiment(random, sequence++), 0);
        }
        int placed = 0;
        long decided = 0;
        int drainCycles = 0;
        while (queue.size() > 0) {
            Step step = step(cycle, queue, cluster, quotas, running, 0, startSequence);
            startSequence += step.placed();
            placed += step.placed();
            decided += step.considered();
            drainCycles++;
            if (step.placed() == 0) {
                break;
            }
        }
        double drainSeconds = (System.nanoTime() - start) / 1e9;
        double drainCpuSeconds = (threads.getCurrentThreadCpuTime() - cpuStart) / 1e9;

        // steady state: from the drained, busy cluster with the whole undrained backlog still queued, each
        // simulated second as many running experiments finish as new ones arrive
        int pendingAtStart = queue.size();
        long pendingSum = 0;
        long consideredSum = 0;
        long steadyPlaced = 0;
        double steadyCycleSeconds = 0;
        double[] latencies = new double[steadyCycles];
        double[] cpuLatencies = new double[steadyCycles];
        // the first cycles after the drain, timed apart: the JIT still compiling and the heap still
        // growing into memory the process has never touched (each first touch is a page fault)
        double[] firstLatencies = new double[steadyCycles];
        List<GarbageCollectorMXBean> collectors = ManagementFactory.getGarbageCollectorMXBeans();
        double[] quietLatencies = new double[steadyCycles];
        int quiet = 0;
        int withCollection = 0;
        long collectionMillis = 0;
        long allocatedBytes = 0;
        for (int c = 0, total = steadyWarmup + steadyCycles; c < total; c++) {
            List<String> ids = new ArrayList<>(running.keySet());
            for (int k = 0; k < submissionsPerSecond && !ids.isEmpty(); k++) {
                running.remove(ids.remove(random.nextInt(ids.size())));
            }
            List<PendingExperiment> arrivals = new ArrayList<>(submissionsPerSecond);
            for (int k = 0; k < submissionsPerSecond; k++) {
                arrivals.add(experiment(random, sequence++));
            }
            CollectorTotals before = CollectorTotals.of(collectors);
            long cycleCpuStart = threads.getCurrentThreadCpuTime();
            long allocatedBefore = allocations == null ? 0 : allocations.getCurrentThreadAllocatedBytes();
            long cycleStart = System.nanoTime();
            for (PendingExperiment arrival : arrivals) {
                queue.put(arrival, c + 1);
            }
            if (c >= steadyWarmup) {
                pendingSum += queue.size();
            }
            Step step = step(cycle, queue, cluster, quotas, running, c + 1, startSequence);
            double millis = (System.nanoTime() - cycleStart) / 1e6;
            double cpuMillis = (threads.getCurrentThreadCpuTime() - cycleCpuStart) / 1e6;
            long allocated = allocations == null ? 0 : allocations.getCurrentThreadAllocatedBytes() - allocatedBefore;
            startSequence += step.placed();
            if (c < steadyCycles) {
                firstLatencies[c] = millis;
            }
            if (c < steadyWarmup) {
                continue;
            }
            int m = c - steadyWarmup;
            CollectorTotals after = CollectorTotals.of(collectors);
            if (after.count() != before.count()) {
                withCollection++;
                collectionMillis += after.millis() - before.millis();
            }
            else {
                quietLatencies[quiet++] = millis;
            }
            latencies[m] = millis;
            cpuLatencies[m] = cpuMillis;
            steadyPlaced += step.placed();
            allocatedBytes += allocated;
            consideredSum += step.considered();
            steadyCycleSeconds += millis / 1e3;
        }
        Arrays.sort(latencies);
        Arrays.sort(cpuLatencies);
        Arrays.sort(firstLatencies);
        double[] quietSorted = Arrays.copyOf(quietLatencies, quiet);
        Arrays.sort(quietSorted);
        return new Result(nodes, pending, placed, drainSeconds, drainCpuSeconds,
                decided / Math.max(drainSeconds, 1e-9), placed / Math.max(drainSeconds, 1e-9),
                steadyCycles, percentile(latencies, 0.50), percentile(latencies, 0.99), steadyCycles == 0 ? 0 : latencies[steadyCycles - 1], percentile(cpuLatencies, 0.50),
                pendingAtStart, steadyCycles == 0 ? 0 : pendingSum / (double) steadyCycles, steadyCycles == 0 ? 0 : steadyPlaced / (double) steadyCycles,
                steadyPlaced / Math.max(steadyCycleSeconds, 1e-9), drainCycles, steadyCycles == 0 ? 0 : consideredSum / (double) steadyCycles,
                queue.lineCount(), steadyWarmup, percentile(firstLatencies, 0.50), percentile(firstLatencies, 0.99),
                withCollection, collectionMillis, percentile(quietSorted, 0.99),
                allocations == null ? Double.NaN : steadyCycles == 0 ? 0 : allocatedBytes / 1e6 / steadyCycles);
    }

    /** Collections so far, and the time the collectors report for them, by all of the JVM's collectors (a count that moved during a cycle: one happened in it). */
    private record CollectorTotals(long count, long millis)
    {
        static CollectorTotals of(List<GarbageCollectorMXBean> collectors)
        {
            long count = 0;
            long millis = 0;
            for (GarbageCollectorMXBean collector : collectors) {
                // -1: the collector does not say
                count += Math.max(0, collector.getCollectionCount());
                millis += Math.max(0, collector.getCollectionTime());
            }
            return new CollectorTotals(count, millis);
        }
    }

    private record Step(int placed, int considered) {}

    /** One production-shaped cycle: the queue's window, the cycle, and what it placed leaves the queue and runs. */
    private static Step step(SchedulingCycle cycle, PendingQueue queue, List<Node> cluster, List<ProjectQuota> quotas, Map<String, RunningAllocation> running,
            long now, long startSequence)
    {
        PendingQueue.Window window = queue.window(now);
        Decisions decisions = cycle.run(new ClusterSnapshot(cluster, quotas, List.of(), new ArrayList<>(running.values()), window.considered(), List.of(),
                ServiceHistory.NONE, window.beyond()));
        for (var preemption : decisions.preemptions()) {
            running.remove(preemption.victimId());
        }
        Map<String, PendingExperiment> considered = new java.util.HashMap<>();
        window.considered().forEach(job -> considered.put(job.id(), job));
        long sequence = startSequence;
        for (Placement placement : decisions.placements()) {
            PendingExperiment job = considered.get(placement.experimentId());
            queue.remove(job.id());
            running.put(job.id(), new RunningAllocation(job.id(), job.project(), job.priority(), job.preemptible(), sequence++, placement.replicas()));
        }
        return new Step(decisions.placements().size(), window.considered().size());
    }

    /**
     * @param cycleMillis median wall time of one cold cycle (snapshot to decisions) that must reclaim,
     *         measured after the warm-up
     * @param firstCycleMillis the same for the first cycles after the start, the JIT still compiling
     * @param victims how many experiments that cycle preempted
     */
    public record ReclaimResult(int nodes, int running, double cycleMillis, double cycleP99Millis, double cycleCpuMillis, int victims, boolean placed,
            double warmCycleMillis, int warmup, double firstCycleMillis, double firstCycleP99Millis) {}

    /**
     * A full cluster of {@code nodes} 8-GPU nodes where a borrowing project (deserved 0) runs
     * {@code running} preemptible experiments of whole GPUs, and a project with a deserved share
     * submits a gang of two whole nodes: the cycle must reclaim. Median and p99 of {@code repetitions}
     * cold cycles (fresh cycle, fresh snapshot records) after {@code warmup} more cold cycles, as a
     * server that has been running a while does them; the same for the first {@code repetitions}
     * cycles after the start (the JIT still compiling); and the median of a warm cycle rerunning the
     * identical snapshot for comparison.
     */
    public static ReclaimResult reclaim(int nodes, int running, int repetitions, int warmup, long seed)
    {
        if (nodes < 2 || running < 1 || repetitions < 1 || warmup < 0) {
            throw new IllegalArgumentException("need at least 2 nodes, 1 running experiment, 1 repetition and no negative warm-up");
        }
        SplittableRandom random = new SplittableRandom(seed);
        List<Node> cluster = new ArrayList<>(nodes);
        for (int i = 0; i < nodes; i++) {
            cluster.add(Node.of(String.format("node-%05d", i), NODE_CPU_MILLI, NODE_MEMORY_MIB, GPUS_PER_NODE, "H100", 81_920));
        }
        // fill every GPU: split the node's GPUs over the experiments that land there
        List<RunningAllocation> allocations = new ArrayList<>(running);
        int[] nextGpu = new int[nodes];
        for (int i = 0; i < running; i++) {
            int node = i % nodes;
            int gpusLeft = GPUS_PER_NODE - nextGpu[node];
            int jobsLeftOnNode = (running - 1 - i) / nodes + 1;
            int gpus = Math.max(0, Math.min(gpusLeft, gpusLeft / jobsLeftOnNode));
            Map<Integer, Integer> gpuMilli = new LinkedHashMap<>();
            for (int g = 0; g < gpus; g++) {
                gpuMilli.put(nextGpu[node]++, 1000);
            }
            ReplicaPlacement replica = new ReplicaPlacement(cluster.get(node).name(), gpuMilli, 8_000L * gpus, 65_536L * gpus);
            allocations.add(new RunningAllocation("borrowed-" + i, "borrower", random.nextInt(3), true, i, List.of(replica)));
        }
        List<ProjectQuota> quotas = List.of(ProjectQuota.of("borrower", 0), ProjectQuota.of("owner", (long) nodes * GPUS_PER_NODE * 1000 / 2));
        ResourceRequest wholeNode = new ResourceRequest(GpuRequest.whole(GPUS_PER_NODE), 64_000, 524_288);
        PendingExperiment gang = new PendingExperiment("owner-gang", "owner", 0, false, 2, wholeNode, 0, 0);
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        double[] firstMillis = new double[repetitions];
        double[] millis = new double[repetitions];
        double[] cpuMillis = new double[repetitions];
        Decisions decisions = null;
        // cold: every repetition gets a fresh cycle (no memo of earlier snapshots) and a snapshot built
        // from fresh records, as after a restart or a large change. The first ones run while the JIT
        // compiles (reported beside); the headline ones after the warm-up, as in a server that has run
        // its cycles for a while. Warm: one cycle rerun on the identical snapshot (what the memo makes cheap).
        for (int r = 0; r < warmup + repetitions; r++) {
            ClusterSnapshot snapshot = new ClusterSnapshot(List.copyOf(cluster), quotas, freshCopies(allocations), List.of(gang));
            SchedulingCycle cycle = new SchedulingCycle(PlacementPolicies.byName(PlacementPolicies.DEFAULT), SchedulingOptions.defaults().withSeed(seed));
            long cpuStart = threads.getCurrentThreadCpuTime();
            long start = System.nanoTime();
            decisions = cycle.run(snapshot);
            double elapsed = (System.nanoTime() - start) / 1e6;
            if (r < repetitions) {
                firstMillis[r] = elapsed;
            }
            if (r >= warmup) {
                millis[r - warmup] = elapsed;
                cpuMillis[r - warmup] = (threads.getCurrentThreadCpuTime() - cpuStart) / 1e6;
            }
        }
        ClusterSnapshot same = new ClusterSnapshot(cluster, quotas, allocations, List.of(gang));
        SchedulingCycle warm = new SchedulingCycle(PlacementPolicies.byName(PlacementPolicies.DEFAULT), SchedulingOptions.defaults().withSeed(seed));
        double[] warmMillis = new double[repetitions];
        for (int r = 0; r < 2 * repetitions; r++) {
            long start = System.nanoTime();
            warm.run(same);
            if (r >= repetitions) {
                warmMillis[r - repetitions] = (System.nanoTime() - start) / 1e6;
            }
        }
        Arrays.sort(firstMillis);
        Arrays.sort(millis);
        Arrays.sort(cpuMillis);
        Arrays.sort(warmMillis);
        return new ReclaimResult(nodes, running, percentile(millis, 0.5), percentile(millis, 0.99), percentile(cpuMillis, 0.5), decisions.preemptions().size(),
                !decisions.placements().isEmpty(), percentile(warmMillis, 0.5), warmup, percentile(firstMillis, 0.5), percentile(firstMillis, 0.99));
    }

    /** Equal records that are not the same objects, so that no cache keyed by identity can help. */
    private static List<RunningAllocation> freshCopies(List<RunningAllocation> allocations)
    {
        List<RunningAllocation> copies = new ArrayList<>(allocations.size());
        for (RunningAllocation allocation : allocations) {
            List<ReplicaPlacement> replicas = new ArrayList<>(allocation.replicas().size());
            for (ReplicaPlacement replica : allocation.replicas()) {
                replicas.add(new ReplicaPlacement(new String(replica.node()), new LinkedHashMap<>(replica.gpuMilli()), replica.cpuMilli(), replica.memoryMib()));
            }
            copies.add(new RunningAllocation(new String(allocation.experimentId()), allocation.project(), allocation.priority(), allocation.preemptible(),
                    allocation.startSequence(), replicas));
        }
        return copies;
    }

    private static double percentile(double[] sorted, double quantile)
    {
        if (sorted.length == 0) {
            return 0;
        }
        int index = (int) Math.ceil(quantile * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }

    /** Half fractions, a third single GPUs, the rest multi-GPU jobs and gangs of whole nodes. */
    private static PendingExperiment experiment(SplittableRandom random, long sequence)
    {
        double draw = random.nextDouble();
        GpuRequest gpu;
        int replicas = 1;
        if (draw < 0.5) {
            gpu = GpuRequest.fraction(random.nextBoolean() ? 250 : 500);
        }
        else if (draw < 0.85) {
            gpu = GpuRequest.whole(1);
        }
        else if (draw < 0.95) {
            gpu = GpuRequest.whole(random.nextBoolean() ? 2 : 4);
        }
        else {
            gpu = GpuRequest.whole(GPUS_PER_NODE);
            replicas = 2;
        }
        // CPU and memory in proportion to the GPU share: 8 cores and 64 GiB per GPU
        long milli = gpu.totalMilli(0);
        ResourceRequest request = new ResourceRequest(gpu, 8 * milli, 64 * milli);
        String project = PROJECT_PREFIX + random.nextInt(PROJECTS);
        int priority = random.nextInt(3);
        return new PendingExperiment("exp-" + sequence, project, priority, true, replicas, request, sequence, 0);
    }
}

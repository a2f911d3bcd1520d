package dev.tranche.scheduler.simulation;

import dev.tranche.scheduler.core.Decisions;
import dev.tranche.scheduler.core.Ordering;
import dev.tranche.scheduler.core.Placement;
import dev.tranche.scheduler.core.Preemption;
import dev.tranche.scheduler.core.SchedulingCycle;
import dev.tranche.scheduler.core.SchedulingOptions;
import dev.tranche.scheduler.core.model.ClusterSnapshot;
import dev.tranche.scheduler.core.model.Node;
import dev.tranche.scheduler.core.model.PendingExperiment;
import dev.tranche.scheduler.core.model.ProjectQuota;
import dev.tranche.scheduler.core.model.ResourceRequest;
import dev.tranche.scheduler.core.model.RunningAllocation;
import dev.tranche.scheduler.core.model.ServiceHistory;
import dev.tranche.scheduler.core.placement.PlacementPolicies;
import dev.tranche.scheduler.outcome.JobOutcome;
import dev.tranche.scheduler.outcome.Outcomes;
import dev.tranche.scheduler.outcome.UsageTimeline;
import dev.tranche.scheduler.server.SchedulerServer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.PriorityQueue;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.Comparator;
import dev.tranche.scheduler.core.model.GpuRequest;
import dev.tranche.scheduler.core.model.WorkloadShape;

import static java.util.Objects.requireNonNull;

/**
 * Replays a trace in virtual time through a {@link SchedulingCycle}: the production one for policy
 * {@code tranche}, the same core with another {@link Ordering} for the baselines. The inventory is
 * {@code nodes} identical nodes; there is no database and no clock.
 *
 * <p>Protocol (shared/traces/philly/README.md): time starts at the first arrival; at every instant
 * where something arrives or finishes, all of that instant's completions and arrivals are applied,
 * then one cycle runs and its decisions take effect at once (victims stop, gangs start). A job needs
 * its duration of run time; a preempted job keeps the work up to its last checkpoint (one every
 * {@code checkpointSeconds} of run time), goes back to the queue, and pays {@code restartSeconds}
 * before it makes progress again. A job bigger than the whole cluster is dropped and counted.
 */
public final class Simulator
{
    public static final List<String> POLICIES = Ordering.names();

    /**
     * @param quotas for {@code tranche}: the admin's quotas; empty: each project deserves its share of the
     *         trace's GPU-time (and weighs as much in the over-quota share)
     */
    public record Settings(int nodes, int gpusPerNode, String policy, Optional<QuotaFile> quotas, double checkpointSeconds, double restartSeconds,
                           String placementPolicy)
    {
        public Settings
        {
            requireNonNull(policy, "policy is null");
            requireNonNull(quotas, "quotas is null");
            requireNonNull(placementPolicy, "placementPolicy is null");
            if (nodes < 1 || gpusPerNode < 1) {
                throw new IllegalArgumentException("nodes and GPUs per node must be >= 1");
            }
            if (!POLICIES.contains(policy)) {
                throw new IllegalArgumentException("unknown policy \"" + policy + "\"; known: " + String.join(", ", POLICIES));
            }
            if (!(checkpointSeconds > 0) || !(restartSeconds >= 0)) {
                throw new IllegalArgumentException("checkpoint interval must be > 0 and restart delay >= 0");
            }
        }
    }

    /** What a test sees after each cycle took effect: the cluster as it now is, and the counts that must add up. */
    public record CycleView(double now, List<Node> nodes, List<RunningAllocation> running, Map<String, TraceJob> jobsById, int pending, int arrived,
                            int finished, int dropped, Decisions decisions)
    {
    }

    public interface CycleCheck
    {
        CycleCheck NONE = view -> { };

        void afterCycle(CycleView view);
    }

    public record Result(String policy, Outcomes.Summary summary, int dropped, int cycles, double wallSeconds, UsageTimeline timeline, double[] deservedGpus,
                         double[] waits)
    {
    }

    private static final long GPU_MEMORY_MIB = 80_000;

    private final List<TraceJob> trace;
    private final Settings settings;
    private final CycleCheck check;

    private final boolean windowed;

    public Simulator(List<TraceJob> trace, Settings settings, CycleCheck check)
    {
        this(trace, settings, check, true);
    }

    /** @param windowed false hands the core the whole backlog every cycle: slow, for checking that the window changes nothing */
    Simulator(List<TraceJob> trace, Settings settings, CycleCheck check, boolean windowed)
    {
        this.windowed = windowed;
        this.trace = List.copyOf(trace);
        this.settings = requireNonNull(settings, "settings is null");
        this.check = requireNonNull(check, "check is null");
    }

    /** The cycle each policy replays through: {@code tranche} is exactly the server's. */
    public static SchedulingCycle cycleFor(String policy, String placementPolicy)
    {
        if (policy.equals("tranche")) {
            return SchedulerServer.productionCycle(placementPolicy);
        }
        // baselines: one queue, no quotas, no aging; las preempts by rank, fifo and sjf-oracle never preempt
        SchedulingOptions options = new SchedulingOptions(SchedulingOptions.DEFAULT_SEED, Long.MAX_VALUE, false, false);
        return new SchedulingCycle(PlacementPolicies.byName(placementPolicy), options, Ordering.byName(policy));
    }

    /** Every project's deserved GPUs when no quotas are given: its share of the trace's GPU-time. */
    public static Map<String, Double> traceShares(List<TraceJob> trace, double clusterGpus)
    {
        Map<String, Double> gpuTime = new TreeMap<>();
        double total = 0;
        for (TraceJob job : trace) {
            double work = job.gpuMilli() / 1000.0 * job.durationSeconds();
            gpuTime.merge(job.project(), work, Double::sum);
            total += work;
        }
        Map<String, Double> deserved = new LinkedHashMap<>();
        for (Map.Entry<String, Double> entry : gpuTime.entrySet()) {
            deserved.put(entry.getKey(), total == 0 ? 0 : entry.getValue() / total * clusterGpus);
        }
        return deserved;
    }

    /** A job as the replay tracks it. */
    private static final class Sim
    {
        final TraceJob job;
        final double gpus;
        final int project;
        /** Position in arrival order: the arrival sequence the core sees. */
        final int order;
        final Group group;
        /** The ordering's rank while waiting (service does not change while a job waits). */
        long rank;
        PendingExperiment pending;
        RunningAllocation running;
        double firstStart = Double.NaN;
        double start;
        double delay;
        double saved;
        double attained;
        double finishAt;
        int preemptions;
        double lost;

        Sim(TraceJob job, int project, int order, Group group)
        {
            this.job = job;
            this.gpus = job.gpuMilli() / 1000.0;
            this.project = project;
            this.order = order;
            this.group = group;
        }
    }

    private record GroupKey(int project, GpuRequest gpu, int replicas, int priority) {}

    /** Waiting jobs of one project, gang shape and priority: the core tries them in its job order. */
    private static final class Group
    {
        final int project;
        final long demandMilli;
        final TreeSet<Sim> byRank = new TreeSet<>(Comparator.comparingLong((Sim sim) -> sim.rank).thenComparingInt(sim -> sim.order));

        Group(int project, long demandMilli)
        {
            this.project = project;
            this.demandMilli = demandMilli;
        }
    }

    private record Completion(double time, long attempt, Sim sim) {}

    public Result run()
    {
        long began = System.nanoTime();
        int clusterGpus = settings.nodes() * settings.gpusPerNode();
        List<Node> nodes = new ArrayList<>(settings.nodes());
        for (int i = 0; i < settings.nodes(); i++) {
            nodes.add(Node.of(String.format("node-%03d", i), 1_000_000L * settings.gpusPerNode(), 1_000_000L * settings.gpusPerNode(), settings.gpusPerNode(), "sim",
                    GPU_MEMORY_MIB));
        }
        Map<String, Double> shares = traceShares(trace, clusterGpus);
        List<String> projects = new ArrayList<>(shares.keySet());
        List<ProjectQuota> quotas = new ArrayList<>();
        double[] deserved = new double[projects.size()];
        List<dev.tranche.scheduler.core.model.DepartmentQuota> departments = List.of();
        if (settings.quotas().isPresent()) {
            Map<String, ProjectQuota> given = new HashMap<>();
            settings.quotas().get().projects().forEach(quota -> given.put(quota.project(), quota));
            for (int p = 0; p < projects.size(); p++) {
                ProjectQuota quota = given.get(projects.get(p));
                deserved[p] = quota == null ? 0 : quota.deservedMilliGpu() / 1000.0;
            }
            quotas.addAll(settings.quotas().get().projects());
            departments = settings.quotas().get().departments();
        }
        else {
            for (int p = 0; p < projects.size(); p++) {
                deserved[p] = shares.get(projects.get(p));
                double share = deserved[p] / clusterGpus;
                quotas.add(ProjectQuota.of(projects.get(p), (long) Math.floor(deserved[p] * 1000)).withWeight(Math.max(share, 1e-6)));
            }
        }
        if (!settings.policy().equals("tranche")) {
            // the baselines know no quotas; fairness is still measured against the same deserved shares
            quotas = List.of();
            departments = List.of();
        }
        Map<String, Integer> projectIndex = new HashMap<>();
        for (int p = 0; p < projects.size(); p++) {
            projectIndex.put(projects.get(p), p);
        }

        SchedulingCycle cycle = cycleFor(settings.policy(), settings.placementPolicy());
        boolean evicts = cycle.options().reclaim() || cycle.options().preempt() || cycle.ordering().preemptByRank();
        long starvationAge = cycle.options().starvationAge();
        boolean singleQueue = cycle.ordering().queues() == Ordering.QueueOrder.SINGLE_QUEUE;
        UsageTimeline timeline = new UsageTimeline(projects, 0, 3600);
        double[] held = new double[projects.size()];
        double[] demand = new double[projects.size()];
        long[] heldMilli = new long[projects.size()];
        long[] deservedMilli = new long[projects.size()];
        for (ProjectQuota quota : quotas) {
            Integer p = projectIndex.get(quota.project());
            if (p != null) {
                deservedMilli[p] = quota.deservedMilliGpu();
            }
        }
        Map<GroupKey, Group> groups = new HashMap<>();
        List<WorkloadShape> workload = workload(trace);
        long[] room = new long[projects.size()];
        long[] largestRunning = new long[projects.size()];

        Map<String, TraceJob> jobsById = new HashMap<>();
        Map<String, Sim> active = new HashMap<>();
        TreeMap<Integer, Sim> pending = new TreeMap<>();
        LinkedHashMap<String, Sim> running = new LinkedHashMap<>();
        PriorityQueue<Completion> completions = new PriorityQueue<>((a, b) -> a.time != b.time ? Double.compare(a.time, b.time) : Integer.compare(a.sim.order, b.sim.order));
        TreeMap<Long, Integer> pendingDemand = new TreeMap<>();
        List<JobOutcome> outcomes = new ArrayList<>(trace.size());
        double[] now = new double[1];
        ServiceHistory history = new ServiceHistory()
        {
            @Override
            public long attainedGpuSeconds(String experimentId)
            {
                Sim sim = active.get(experimentId);
                if (sim == null) {
                    return 0;
                }
                double attained = sim.attained + (sim.running != null ? (now[0] - sim.start) * sim.gpus : 0);
                return (long) attained;
            }

            @Override
            public OptionalLong expectedSeconds(String experimentId)
            {
                Sim sim = active.get(experimentId);
                return sim == null ? OptionalLong.empty() : OptionalLong.of((long) Math.ceil(sim.job.durationSeconds()));
            }
        };

        long freeMilli = clusterGpus * 1000L;
        int next = 0;
        int arrived = 0;
        int finished = 0;
        int dropped = 0;
        int cycles = 0;
        long attempts = 0;
        double first = trace.isEmpty() ? 0 : trace.get(0).arrivalSecond();
        Map<Sim, Long> currentAttempt = new HashMap<>();
        while (next < trace.size() || !completions.isEmpty()) {
            double t = Double.POSITIVE_INFINITY;
            if (next < trace.size()) {
                t = trace.get(next).arrivalSecond();
            }
            if (!completions.isEmpty()) {
                t = Math.min(t, completions.peek().time);
            }
            timeline.advance(t - first, held, demand);
            now[0] = t;
            boolean freed = false;
            int arrivedBefore = arrived;
            while (!completions.isEmpty() && completions.peek().time == t) {
                Completion done = completions.poll();
                Sim sim = done.sim;
                if (sim.running == null || currentAttempt.get(sim) != done.attempt) {
                    continue;   // preempted since: a stale completion
                }
                running.remove(sim.job.id());
                active.remove(sim.job.id());
                currentAttempt.remove(sim);
                sim.running = null;
                held[sim.project] -= sim.gpus;
                heldMilli[sim.project] -= sim.job.gpuMilli();
                demand[sim.project] -= sim.gpus;
                freeMilli += sim.job.gpuMilli();
                outcomes.add(new JobOutcome(sim.job.project(), sim.job.arrivalSecond() - first, sim.firstStart - first, t - first, sim.gpus, sim.preemptions, sim.lost));
                finished++;
                freed = true;
            }
            while (next < trace.size() && trace.get(next).arrivalSecond() == t) {
                int order = next;
                TraceJob job = trace.get(next++);
                arrived++;
                if (job.gpuMilli() > clusterGpus * 1000L || job.gpu().count() > settings.gpusPerNode()) {
                    dropped++;
                    continue;
                }
                int project = projectIndex.get(job.project());
                // a single queue tries each shape in one order across projects: one group per shape is enough
                int groupProject = singleQueue ? -1 : project;
                Group group = groups.computeIfAbsent(new GroupKey(groupProject, job.gpu(), job.replicas(), job.priority()),
                        key -> new Group(groupProject, job.gpuMilli()));
                Sim sim = new Sim(job, project, order, group);
                jobsById.put(job.id(), job);
                active.put(job.id(), sim);
                sim.rank = cycle.ordering().rank().rank(job.id(), history);
                enqueue(pending, pendingDemand, sim);
                demand[sim.project] += sim.gpus;
            }
            // the old completion time of a preempted attempt is no event: nothing arrived or finished,
            // so no cycle (one ran there for every preemption before, a tenth of a replay's cycles)
            if (pending.isEmpty() || (!freed && arrived == arrivedBefore)) {
                continue;
            }
            // without eviction, a cycle where no waiting gang fits the free GPUs decides nothing: skip it
            if (!evicts && pendingDemand.firstKey() > freeMilli) {
                continue;
            }
            List<Sim> window;
            if (windowed) {
                Arrays.fill(largestRunning, 0);
                for (Sim sim : running.values()) {
                    largestRunning[sim.project] = Math.max(largestRunning[sim.project], sim.job.gpuMilli());
                }
                window = window(groups, room(room, freeMilli, heldMilli, deservedMilli, largestRunning, cycle), t, starvationAge);
            }
            else {
                window = new ArrayList<>(pending.values());
            }
            List<PendingExperiment> waiting = new ArrayList<>(window.size());
            for (Sim sim : window) {
                long age = (long) (t - sim.job.arrivalSecond());
                // the core reads an age only against the starvation age and to order starving work, so
                // an age below it may be given as 0, which lets the record be reused
                long given = age >= starvationAge ? age : 0;
                if (sim.pending == null || sim.pending.age() != given) {
                    TraceJob job = sim.job;
                    sim.pending = new PendingExperiment(job.id(), job.project(), job.priority(), true, job.replicas(),
                            new ResourceRequest(job.gpu(), 0, 0), sim.order, given);
                }
                waiting.add(sim.pending);
            }
            List<RunningAllocation> allocations = new ArrayList<>(running.size());
            for (Sim sim : running.values()) {
                allocations.add(sim.running);
            }
            Decisions decisions = cycle.run(new ClusterSnapshot(nodes, quotas, departments, allocations, waiting, workload, history));
            cycles++;
            for (Preemption preemption : decisions.preemptions()) {
                Sim sim = running.remove(preemption.victimId());
                double ran = t - sim.start;
                double progressed = Math.max(0, ran - sim.delay);
                double kept = Math.floor(progressed / settings.checkpointSeconds()) * settings.checkpointSeconds();
                sim.saved = Math.min(sim.job.durationSeconds(), sim.saved + kept);
                sim.attained += ran * sim.gpus;
                sim.lost += (ran - kept) * sim.gpus;
                sim.preemptions++;
                sim.running = null;
                currentAttempt.remove(sim);
                held[sim.project] -= sim.gpus;
                heldMilli[sim.project] -= sim.job.gpuMilli();
                freeMilli += sim.job.gpuMilli();
                sim.rank = cycle.ordering().rank().rank(sim.job.id(), history);
                enqueue(pending, pendingDemand, sim);
            }
            for (Placement placement : decisions.placements()) {
                Sim sim = active.get(placement.experimentId());
                dequeue(pending, pendingDemand, sim);
                sim.start = t;
                if (Double.isNaN(sim.firstStart)) {
                    sim.firstStart = t;
                }
                sim.delay = sim.preemptions > 0 ? settings.restartSeconds() : 0;
                sim.running = new RunningAllocation(sim.job.id(), sim.job.project(), sim.job.priority(), true, ++attempts, placement.replicas());
                sim.finishAt = t + sim.delay + (sim.job.durationSeconds() - sim.saved);
                running.put(sim.job.id(), sim);
                currentAttempt.put(sim, attempts);
                completions.add(new Completion(sim.finishAt, attempts, sim));
                held[sim.project] += sim.gpus;
                heldMilli[sim.project] += sim.job.gpuMilli();
                freeMilli -= sim.job.gpuMilli();
            }
            if (check != CycleCheck.NONE) {
                List<RunningAllocation> after = new ArrayList<>();
                running.values().forEach(sim -> after.add(sim.running));
                check.afterCycle(new CycleView(t, nodes, after, jobsById, pending.size(), arrived, finished, dropped, decisions));
            }
        }
        double wall = (System.nanoTime() - began) / 1e9;
        Outcomes.Summary summary = Outcomes.summarize(outcomes, timeline, deserved, clusterGpus, 0);
        double[] waits = outcomes.stream().mapToDouble(JobOutcome::waitSeconds).toArray();
        return new Result(settings.policy(), summary, dropped, cycles, wall, timeline, deserved, waits);
    }

    /**
     * The GPU milli each project's waiting work could get in this cycle, at most: the free GPUs, plus
     * what evictions could free for it (reclaim takes only other projects' work beyond their deserved
     * share and only up to the project's own deserved share; priority preemption only the project's
     * own work beyond it; preemption by rank any work the core leaves unprotected, which with no
     * quotas is all running work).
     */
    private static long[] room(long[] room, long freeMilli, long[] heldMilli, long[] deservedMilli, long[] largestRunning, SchedulingCycle cycle)
    {
        long borrowed = 0;
        long unprotected = 0;
        for (int p = 0; p < heldMilli.length; p++) {
            borrowed += Math.max(0, heldMilli[p] - deservedMilli[p]);
            // the core protects a project's running work up to its deserved share, job by job: what is
            // left open is the excess plus at most the one job that crosses the line
            if (heldMilli[p] > deservedMilli[p]) {
                unprotected += Math.min(heldMilli[p], heldMilli[p] - deservedMilli[p] + largestRunning[p]);
            }
        }
        for (int p = 0; p < room.length; p++) {
            long evictable = 0;
            if (cycle.ordering().preemptByRank()) {
                // every eviction takes unprotected work only
                evictable = unprotected;
            }
            else {
                if (cycle.options().reclaim()) {
                    evictable += Math.min(borrowed, Math.max(0, deservedMilli[p] - heldMilli[p]));
                }
                if (cycle.options().preempt()) {
                    evictable += Math.max(0, heldMilli[p] - deservedMilli[p]);
                }
            }
            room[p] = freeMilli + evictable;
        }
        return room;
    }

    /**
     * The waiting jobs handed to the core: of each project, gang shape and priority, the first
     * {@code room / demand + 1} in the core's job order (rank, then starving oldest first, then
     * arrival: within a rank that is arrival order), and the first starving job behind them. The core
     * tries jobs of one shape in that order and gives up on a shape once one fails, so at most
     * {@code room / demand} of them can start and the rest fail; of those only the first starving one
     * can matter (the first starving failure of a project reserves nodes). Leaving them
     * out keeps each cycle's cost in proportion to what can happen rather than to the backlog
     * (TestSimulatorWindow checks that a replay without the window decides the same).
     */
    private static List<Sim> window(Map<GroupKey, Group> groups, long[] room, double now, long starvationAge)
    {
        List<Sim> window = new ArrayList<>();
        for (Group group : groups.values()) {
            if (group.byRank.isEmpty()) {
                continue;
            }
            long groupRoom = group.project >= 0 ? room[group.project] : maximum(room);
            long limit = group.demandMilli == 0 ? Long.MAX_VALUE : groupRoom / group.demandMilli + 1;
            long taken = 0;
            // within one priority the core orders by rank, then starving oldest first, then arrival: by rank, then arrival
            for (Sim sim : group.byRank) {
                if (taken++ < limit) {
                    window.add(sim);
                }
                else if (now - sim.job.arrivalSecond() >= starvationAge) {
                    // the first starving job behind the cut fails too, and may be the first starving
                    // failure of its project, which reserves nodes: it changes decisions, so it goes in
                    window.add(sim);
                    break;
                }
            }
        }
        window.sort(Comparator.comparingInt((Sim sim) -> sim.order));
        return window;
    }

    private static long maximum(long[] values)
    {
        long max = 0;
        for (long value : values) {
            max = Math.max(max, value);
        }
        return max;
    }

    /** The trace's task shapes, for the fragmentation-aware placement policies (the server passes the recent mix). */
    private static List<WorkloadShape> workload(List<TraceJob> trace)
    {
        Map<ResourceRequest, Double> counts = new LinkedHashMap<>();
        for (TraceJob job : trace) {
            counts.merge(new ResourceRequest(job.gpu(), 0, 0), (double) job.replicas(), Double::sum);
        }
        List<WorkloadShape> shapes = new ArrayList<>();
        counts.forEach((request, count) -> shapes.add(new WorkloadShape(request, count)));
        return shapes;
    }

    private static void enqueue(TreeMap<Integer, Sim> pending, TreeMap<Long, Integer> demand, Sim sim)
    {
        sim.group.byRank.add(sim);
        pending.put(sim.order, sim);
        demand.merge(sim.job.gpuMilli(), 1, Integer::sum);
    }

    private static void dequeue(TreeMap<Integer, Sim> pending, TreeMap<Long, Integer> demand, Sim sim)
    {
        sim.group.byRank.remove(sim);
        pending.remove(sim.order);
        demand.computeIfPresent(sim.job.gpuMilli(), (key, count) -> count == 1 ? null : count - 1);
    }
}

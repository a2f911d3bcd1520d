package dev.tranche.bench;

import dev.tranche.scheduler.core.model.Node;
import dev.tranche.scheduler.core.model.ResourceRequest;
import dev.tranche.scheduler.core.model.WorkloadShape;
import dev.tranche.scheduler.core.placement.ClusterState;
import dev.tranche.scheduler.core.placement.NodeShape;
import dev.tranche.scheduler.core.placement.PlacementPolicies;
import dev.tranche.scheduler.core.placement.PlacementPolicy;
import dev.tranche.scheduler.core.placement.Placer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

import static java.util.Objects.requireNonNull;

/**
 * Replays the published GPU-sharing placement benchmark (Weng et al., ATC'23, openb trace):
 * every task once, then uniform random copies with replacement until the next drawn copy would push
 * the requested GPU past {@code tune} x the cluster's GPU (tested, as the simulator does, with the
 * copy's milli per GPU); shuffle with the seed; nodes ranked by a seeded shuffle for the policies that
 * break ties by node name, as the simulator's random name prefixes do; place one task at a
 * time through the core's {@link Placer}; nothing departs and a task that fits nowhere is dropped.
 * The result is the cluster GPU allocation ratio against the arrived workload, averaged over seeds.
 */
public final class PlacementBenchmark
{
    /** Arrived workload (% of cluster GPU) at which the curve is sampled: 0, 5, ..., 130. */
    public static final int CURVE_STEP_PERCENT = 5;

    /**
     * @param curve mean allocation ratio (%) at arrived 0%, 5%, ... up to the tune; index i is arrived i*5%
     * @param placed mean number of tasks placed per seed
     * @param failed mean number of tasks that fit nowhere per seed
     * @param unallocated where the cluster's free GPU was after the last task, mean over seeds
     */
    public record Result(String policy, double allocAt100, double allocAt130, double wallSeconds, List<Double> curve, double placed, double failed,
            Unallocated unallocated)
    {
        public Result
        {
            requireNonNull(policy, "policy is null");
            curve = List.copyOf(requireNonNull(curve, "curve is null"));
            requireNonNull(unallocated, "unallocated is null");
        }
    }

    /**
     * The free GPU left after the last task, in % of the cluster's GPU: {@code cpuBound} on nodes whose free CPU
     * or memory no GPU task of the trace fits in, the rest by how much a GPU has free ({@code byFreeMilli}: free
     * milli of one GPU -> % of the cluster's GPU in GPUs with that much free). Says whether what is left is
     * stranded by CPU, kept whole, or cut into pieces the workload's shapes cannot use.
     */
    public record Unallocated(double cpuBound, Map<Integer, Double> byFreeMilli)
    {
        public Unallocated
        {
            byFreeMilli = Map.copyOf(requireNonNull(byFreeMilli, "byFreeMilli is null"));
        }

        public double total()
        {
            return cpuBound + byFreeMilli.values().stream().mapToDouble(Double::doubleValue).sum();
        }
    }

    private PlacementBenchmark() {}

    public static Result run(List<Node> nodes, List<TraceTask> tasks, String policyName, double tune, List<Long> seeds)
    {
        return run(nodes, tasks, PlacementPolicies.byName(policyName), tune, seeds);
    }

    public static Result run(List<Node> nodes, List<TraceTask> tasks, PlacementPolicy policy, double tune, List<Long> seeds)
    {
        requireNonNull(nodes, "nodes is null");
        requireNonNull(tasks, "tasks is null");
        requireNonNull(seeds, "seeds is null");
        if (tasks.isEmpty()) {
            throw new IllegalArgumentException("the benchmark needs at least one task");
        }
        if (seeds.isEmpty()) {
            throw new IllegalArgumentException("the benchmark needs at least one seed");
        }
        if (!(tune > 0)) {
            throw new IllegalArgumentException("tune must be > 0, got " + tune);
        }
        requireNonNull(policy, "policy is null");
        // the policy learns the workload from the trace's task popularity
        Map<ResourceRequest, Double> popularity = new LinkedHashMap<>();
        for (TraceTask task : tasks) {
            popularity.merge(task.toRequest(), 1.0, Double::sum);
        }
        List<WorkloadShape> workload = new ArrayList<>();
        popularity.forEach((request, count) -> workload.add(new WorkloadShape(request, count)));
        List<ResourceRequest> requests = tasks.stream().map(TraceTask::toRequest).toList();

        int points = (int) Math.floor(tune * 100 / CURVE_STEP_PERCENT + 1e-9) + 1;
        double[] curve = new double[points];
        double at100 = 0;
        double at130 = 0;
        double placed = 0;
        double failed = 0;
        double cpuBound = 0;
        Map<Integer, Double> byFreeMilli = new TreeMap<>();
        long start = System.nanoTime();
        for (long seed : seeds) {
            SeedRun run = runSeed(nodes, tasks, requests, policy, workload, tune, seed, points);
            for (int i = 0; i < points; i++) {
                curve[i] += run.curve[i] / seeds.size();
            }
            at100 += run.at(100) / seeds.size();
            at130 += run.at(130) / seeds.size();
            placed += run.placed / (double) seeds.size();
            failed += run.failed / (double) seeds.size();
            cpuBound += run.cpuBound / seeds.size();
            run.byFreeMilli.forEach((milli, percent) -> byFreeMilli.merge(milli, percent / seeds.size(), Double::sum));
        }
        double wall = (System.nanoTime() - start) / 1e9;
        List<Double> curveList = new ArrayList<>();
        for (double value : curve) {
            curveList.add(value);
        }
        return new Result(policy.name(), at100, at130, wall, curveList, placed, failed, new Unallocated(cpuBound, byFreeMilli));
    }

    private static final class SeedRun
    {
        final double[] curve;
        final List<double[]> samples = new ArrayList<>();
        int placed;
        int failed;
        double cpuBound;
        final Map<Integer, Double> byFreeMilli = new TreeMap<>();

        SeedRun(int points)
        {
            curve = new double[points];
        }

        /** Allocation (%) after the last task whose arrival kept the arrived workload at or below {@code percent}. */
        double at(double percent)
        {
            double value = 0;
            for (double[] sample : samples) {
                if (sample[0] <= percent + 1e-9) {
                    value = sample[1];
                }
            }
            return value;
        }
    }

    private static void recordUnallocated(SeedRun run, ClusterState state, List<ResourceRequest> requests, double capacity)
    {
        List<ResourceRequest> gpuTasks = requests.stream().filter(request -> !request.gpu().isNone()).distinct().toList();
        for (int node = 0; node < state.nodeCount(); node++) {
            NodeShape shape = state.shapeOf(node);
            long free = shape.totalGpuFree();
            if (free == 0) {
                continue;
            }
            boolean hostFits = gpuTasks.stream().anyMatch(request -> request.cpuMilli() <= shape.cpuFree() && request.memoryMib() <= shape.memoryFree());
            if (!hostFits) {
                run.cpuBound += free * 100.0 / capacity;
                continue;
            }
            for (int gpu = 0; gpu < shape.gpuCount(); gpu++) {
                int gpuFree = shape.gpuFree(gpu);
                if (gpuFree > 0) {
                    run.byFreeMilli.merge(gpuFree, gpuFree * 100.0 / capacity, Double::sum);
                }
            }
        }
    }

    private static SeedRun runSeed(List<Node> nodes, List<TraceTask> tasks, List<ResourceRequest> requests, PlacementPolicy policy,
            List<WorkloadShape> workload, double tune, long seed, int points)
    {
        SplittableRandom random = new SplittableRandom(seed);
        ClusterState state = new ClusterState(nodes, policy.needsTaskKinds());
        double capacity = state.totalGpuMilli();

        // the workload: every task, then random copies until the next one would pass the target
        List<Integer> order = new ArrayList<>(tasks.size() * 2);
        long requested = 0;
        for (int i = 0; i < tasks.size(); i++) {
            order.add(i);
            requested += tasks.get(i).requestedGpuMilli();
        }
        double target = tune * capacity;
        while (true) {
            int drawn = random.nextInt(tasks.size());
            // as the published simulator does: the test adds the drawn task's milli per GPU, not its total
            TraceTask task = tasks.get(drawn);
            if (requested + (task.numGpu() == 0 ? 0 : task.gpuMilli()) > target) {
                break;
            }
            order.add(drawn);
            requested += tasks.get(drawn).requestedGpuMilli();
        }
        for (int i = order.size() - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            Integer swap = order.get(i);
            order.set(i, order.get(j));
            order.set(j, swap);
        }

        // the published simulator prefixes node names with a seeded random permutation, and policies that
        // break ties by name therefore break them in that seeded order
        int[] tieOrder = new int[nodes.size()];
        for (int i = 0; i < tieOrder.length; i++) {
            tieOrder[i] = i;
        }
        for (int i = tieOrder.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int swap = tieOrder[i];
            tieOrder[i] = tieOrder[j];
            tieOrder[j] = swap;
        }
        Placer placer = new Placer(state, policy.open(state, workload), random, tieOrder);
        SeedRun run = new SeedRun(points);
        long arrived = 0;
        int nextPoint = 0;
        for (int index : order) {
            if (placer.place(requests.get(index)).isPresent()) {
                run.placed++;
            }
            else {
                run.failed++;
            }
            arrived += tasks.get(index).requestedGpuMilli();
            double arrivedPercent = arrived * 100.0 / capacity;
            double allocatedPercent = state.allocatedGpuMilli() * 100.0 / capacity;
            run.samples.add(new double[] {arrivedPercent, allocatedPercent});
            while (nextPoint < points && arrivedPercent >= nextPoint * CURVE_STEP_PERCENT) {
                run.curve[nextPoint++] = allocatedPercent;
            }
        }
        double finalAllocation = state.allocatedGpuMilli() * 100.0 / capacity;
        while (nextPoint < points) {
            run.curve[nextPoint++] = finalAllocation;
        }
        recordUnallocated(run, state, requests, capacity);
        return run;
    }
}

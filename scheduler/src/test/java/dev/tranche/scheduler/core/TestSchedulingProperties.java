package dev.tranche.scheduler.core;

import dev.tranche.scheduler.core.model.ClusterSnapshot;
import dev.tranche.scheduler.core.model.DepartmentQuota;
import dev.tranche.scheduler.core.model.Gpu;
import dev.tranche.scheduler.core.model.GpuRequest;
import dev.tranche.scheduler.core.model.Node;
import dev.tranche.scheduler.core.model.PendingExperiment;
import dev.tranche.scheduler.core.model.ProjectQuota;
import dev.tranche.scheduler.core.model.ReplicaPlacement;
import dev.tranche.scheduler.core.model.ResourceRequest;
import dev.tranche.scheduler.core.model.RunningAllocation;
import dev.tranche.scheduler.core.placement.PlacementPolicies;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Invariants over random small clusters and workloads: capacity is never exceeded, gangs are whole,
 * limits hold, protected work is never preempted, and the same input gives the same output.
 */
class TestSchedulingProperties
{
    @Property(tries = 300)
    void decisionsKeepTheInvariants(@ForAll long seed, @ForAll @IntRange(min = 1, max = 6) int nodeCount, @ForAll @IntRange(min = 0, max = 14) int pendingCount,
            @ForAll @IntRange(min = 0, max = 7) int policyIndex)
    {
        SplittableRandom random = new SplittableRandom(seed);
        String policy = PlacementPolicies.names().get(policyIndex);
        Scenario scenario = Scenario.generate(random, nodeCount, pendingCount, policy);
        ClusterSnapshot snapshot = scenario.snapshot;
        SchedulingCycle cycle = new SchedulingCycle(PlacementPolicies.byName(policy), SchedulingOptions.defaults().withSeed(seed).withStarvationAge(50));

        Decisions decisions = cycle.run(snapshot);

        // same input, same output, also from a fresh cycle
        assertThat(new SchedulingCycle(PlacementPolicies.byName(policy), SchedulingOptions.defaults().withSeed(seed).withStarvationAge(50)).run(snapshot))
                .isEqualTo(decisions);

        Map<String, PendingExperiment> pending = new HashMap<>();
        snapshot.pending().forEach(job -> pending.put(job.id(), job));
        Set<String> decided = new HashSet<>();
        decisions.placements().forEach(placement -> assertThat(decided.add(placement.experimentId())).isTrue());
        decisions.unplaced().forEach(unplaced -> {
            assertThat(decided.add(unplaced.experimentId())).isTrue();
            assertThat(unplaced.message()).isNotBlank();
        });
        assertThat(decided).isEqualTo(pending.keySet());

        Map<String, Node> nodes = new HashMap<>();
        snapshot.nodes().forEach(node -> nodes.put(node.name(), node));
        Map<String, RunningAllocation> running = new HashMap<>();
        snapshot.running().forEach(allocation -> running.put(allocation.experimentId(), allocation));

        // preemptions: only preemptible work beyond its project's deserved share, each once
        Set<String> protectedIds = protectedRunning(snapshot);
        Set<String> victims = new HashSet<>();
        for (Preemption preemption : decisions.preemptions()) {
            RunningAllocation victim = running.get(preemption.victimId());
            assertThat(victim).isNotNull();
            assertThat(victim.preemptible()).isTrue();
            assertThat(protectedIds).doesNotContain(victim.experimentId());
            assertThat(victims.add(victim.experimentId())).isTrue();
            assertThat(decisions.placementOf(preemption.forExperimentId()).orElseThrow().afterEvicting()).contains(victim.experimentId());
        }

        // gangs are whole and each replica holds exactly what it asked for, where it is allowed
        for (Placement placement : decisions.placements()) {
            PendingExperiment job = pending.get(placement.experimentId());
            assertThat(placement.replicas()).hasSize(job.replicas());
            for (ReplicaPlacement replica : placement.replicas()) {
                Node node = nodes.get(replica.node());
                assertThat(node.schedulable()).isTrue();
                assertThat(replica.cpuMilli()).isEqualTo(job.request().cpuMilli());
                assertThat(replica.memoryMib()).isEqualTo(job.request().memoryMib());
                checkGpus(job.request().gpu(), node, replica);
            }
        }

        // capacity: running minus victims plus new placements fits every node and GPU
        Map<String, long[]> nodeUse = new HashMap<>();
        Map<String, Integer> gpuUse = new HashMap<>();
        Map<String, Long> projectGpu = new HashMap<>();
        Map<String, Long> projectGpuBefore = new HashMap<>();
        for (RunningAllocation allocation : snapshot.running()) {
            projectGpuBefore.merge(allocation.project(), allocation.gpuMilli(), Long::sum);
            if (!victims.contains(allocation.experimentId())) {
                allocation.replicas().forEach(replica -> use(nodeUse, gpuUse, replica));
                projectGpu.merge(allocation.project(), allocation.gpuMilli(), Long::sum);
            }
        }
        for (Placement placement : decisions.placements()) {
            placement.replicas().forEach(replica -> use(nodeUse, gpuUse, replica));
            projectGpu.merge(pending.get(placement.experimentId()).project(), placement.replicas().stream().mapToLong(ReplicaPlacement::totalGpuMilli).sum(), Long::sum);
        }
        nodeUse.forEach((name, use) -> {
            assertThat(use[0]).isLessThanOrEqualTo(nodes.get(name).cpuMilli());
            assertThat(use[1]).isLessThanOrEqualTo(nodes.get(name).memoryMib());
        });
        gpuUse.values().forEach(milli -> assertThat(milli).isBetween(0, 1000));

        // department limits the same way
        Map<String, Long> departmentGpu = new HashMap<>();
        Map<String, Long> departmentGpuBefore = new HashMap<>();
        for (ProjectQuota quota : snapshot.quotas()) {
            quota.department().ifPresent(department -> {
                departmentGpu.merge(department, projectGpu.getOrDefault(quota.project(), 0L), Long::sum);
                departmentGpuBefore.merge(department, projectGpuBefore.getOrDefault(quota.project(), 0L), Long::sum);
            });
        }
        for (DepartmentQuota department : snapshot.departments()) {
            if (department.limitMilliGpu().isPresent()) {
                long after = departmentGpu.getOrDefault(department.department(), 0L);
                long before = departmentGpuBefore.getOrDefault(department.department(), 0L);
                assertThat(after).isLessThanOrEqualTo(Math.max(department.limitMilliGpu().getAsLong(), before));
            }
        }

        // limits: nobody goes above a hard limit (a project already above it may only shrink)
        for (ProjectQuota quota : snapshot.quotas()) {
            if (quota.limitMilliGpu().isPresent()) {
                long after = projectGpu.getOrDefault(quota.project(), 0L);
                long before = projectGpuBefore.getOrDefault(quota.project(), 0L);
                assertThat(after).isLessThanOrEqualTo(Math.max(quota.limitMilliGpu().getAsLong(), before));
            }
        }
    }

    private static void use(Map<String, long[]> nodeUse, Map<String, Integer> gpuUse, ReplicaPlacement replica)
    {
        long[] use = nodeUse.computeIfAbsent(replica.node(), ignored -> new long[2]);
        use[0] += replica.cpuMilli();
        use[1] += replica.memoryMib();
        replica.gpuMilli().forEach((gpu, milli) -> gpuUse.merge(replica.node() + "/" + gpu, milli, Integer::sum));
    }

    private static void checkGpus(GpuRequest request, Node node, ReplicaPlacement replica)
    {
        Map<Integer, Gpu> gpus = new HashMap<>();
        node.gpus().forEach(gpu -> gpus.put(gpu.index(), gpu));
        replica.gpuMilli().keySet().forEach(index -> {
            assertThat(gpus).containsKey(index);
            assertThat(request.allows(gpus.get(index).model())).isTrue();
        });
        switch (request.kind()) {
            case NONE -> assertThat(replica.gpuMilli()).isEmpty();
            case FRACTION -> assertThat(replica.gpuMilli().values()).containsExactly(request.milli());
            case WHOLE -> {
                assertThat(replica.gpuMilli()).hasSize(request.count());
                assertThat(replica.gpuMilli().values()).containsOnly(1000);
            }
            case MEMORY -> {
                assertThat(replica.gpuMilli()).hasSize(1);
                var entry = replica.gpuMilli().entrySet().iterator().next();
                assertThat(entry.getValue()).isEqualTo(request.milliOn(gpus.get(entry.getKey()).memoryMib()));
            }
        }
    }

    /** The rule from the brief, computed independently: per project, non-preemptible, then priority, then oldest, up to deserved. */
    private static Set<String> protectedRunning(ClusterSnapshot snapshot)
    {
        Map<String, Long> deserved = new HashMap<>();
        snapshot.quotas().forEach(quota -> deserved.put(quota.project(), quota.deservedMilliGpu()));
        Map<String, List<RunningAllocation>> byProject = new HashMap<>();
        snapshot.running().forEach(allocation -> byProject.computeIfAbsent(allocation.project(), ignored -> new ArrayList<>()).add(allocation));
        Set<String> result = new HashSet<>();
        byProject.forEach((project, allocations) -> {
            allocations.sort(Comparator.comparing(RunningAllocation::preemptible)
                    .thenComparing(Comparator.comparingInt(RunningAllocation::priority).reversed())
                    .thenComparingLong(RunningAllocation::startSequence)
                    .thenComparing(RunningAllocation::experimentId));
            long cumulative = 0;
            for (RunningAllocation allocation : allocations) {
                cumulative += allocation.gpuMilli();
                if (!allocation.preemptible() || cumulative <= deserved.getOrDefault(project, 0L)) {
                    result.add(allocation.experimentId());
                }
            }
        });
        return result;
    }

    record Scenario(ClusterSnapshot snapshot)
    {
        static Scenario generate(SplittableRandom random, int nodeCount, int pendingCount, String policy)
        {
            List<Node> nodes = new ArrayList<>();
            for (int i = 0; i < nodeCount; i++) {
                int gpuCount = random.nextInt(9);
                List<Gpu> gpus = new ArrayList<>();
                String model = random.nextBoolean() ? "A" : "B";
                long memory = random.nextBoolean() ? 16_384 : 40_960;
                for (int g = 0; g < gpuCount; g++) {
                    gpus.add(new Gpu(g, model, memory));
                }
                nodes.add(new Node("n" + i, 4_000 + random.nextInt(60) * 1_000L, 8_192 + random.nextInt(256) * 1_024L, gpus, random.nextInt(10) > 0));
            }
            List<ProjectQuota> quotas = new ArrayList<>();
            List<DepartmentQuota> departments = new ArrayList<>();
            for (int d = 0; d < 2; d++) {
                long deserved = random.nextInt(9) * 1000L;
                departments.add(new DepartmentQuota("d" + d, deserved, random.nextBoolean() ? OptionalLong.of(deserved + random.nextInt(9) * 1000L) : OptionalLong.empty()));
            }
            int projects = 1 + random.nextInt(4);
            for (int p = 0; p < projects; p++) {
                long deserved = random.nextInt(9) * 1000L;
                OptionalLong limit = random.nextBoolean() ? OptionalLong.of(deserved + random.nextInt(9) * 1000L) : OptionalLong.empty();
                Optional<String> department = random.nextInt(3) == 0 ? Optional.empty() : Optional.of("d" + random.nextInt(2));
                quotas.add(new ProjectQuota("p" + p, department, deserved, limit, 0.5 + random.nextInt(6) * 0.5));
            }
            // running work: whatever a first cycle placed from an earlier batch
            List<PendingExperiment> earlier = new ArrayList<>();
            for (int i = 0; i < pendingCount; i++) {
                earlier.add(experiment(random, "old" + i, projects, i));
            }
            SchedulingCycle first = new SchedulingCycle(PlacementPolicies.byName(policy), new SchedulingOptions(random.nextLong(), 50, false, false));
            Decisions placed = first.run(new ClusterSnapshot(nodes, quotas, departments, List.of(), earlier, List.of()));
            List<RunningAllocation> running = new ArrayList<>();
            long start = 0;
            for (Placement placement : placed.placements()) {
                PendingExperiment job = earlier.stream().filter(candidate -> candidate.id().equals(placement.experimentId())).findFirst().orElseThrow();
                running.add(new RunningAllocation(job.id(), job.project(), job.priority(), job.preemptible(), start++, placement.replicas()));
            }
            List<PendingExperiment> pending = new ArrayList<>();
            for (int i = 0; i < pendingCount; i++) {
                pending.add(experiment(random, "new" + i, projects, 100 + i));
            }
            return new Scenario(new ClusterSnapshot(nodes, quotas, departments, running, pending, List.of()));
        }

        private static PendingExperiment experiment(SplittableRandom random, String id, int projects, long sequence)
        {
            GpuRequest gpu = switch (random.nextInt(5)) {
                case 0 -> GpuRequest.none();
                case 1, 2 -> GpuRequest.fraction(1 + random.nextInt(1000));
                case 3 -> GpuRequest.whole(1 + random.nextInt(4));
                default -> GpuRequest.memory(1 + random.nextInt(20_000));
            };
            if (!gpu.isNone() && random.nextInt(10) == 0) {
                gpu = gpu.onModels(Set.of(random.nextBoolean() ? "A" : "B"));
            }
            ResourceRequest request = new ResourceRequest(gpu, random.nextInt(17) * 1_000L, random.nextInt(33) * 1_024L);
            return new PendingExperiment(id, "p" + random.nextInt(projects), random.nextInt(4), random.nextInt(10) < 7, 1 + random.nextInt(3), request, sequence, random.nextInt(200));
        }
    }
}

package dev.tranche.scheduler.core;

import dev.tranche.scheduler.core.model.ClusterSnapshot;
import dev.tranche.scheduler.core.model.GpuRequest;
import dev.tranche.scheduler.core.model.Node;
import dev.tranche.scheduler.core.model.PendingExperiment;
import dev.tranche.scheduler.core.model.ResourceRequest;
import dev.tranche.scheduler.core.model.RunningAllocation;
import dev.tranche.scheduler.core.placement.PlacementPolicies;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A cycle that runs snapshot after snapshot (and so reuses what it resolved before) decides exactly
 * as a fresh cycle on each of them: whatever work finished, whether new work comes at the end or in
 * between, in a new order, as new but equal records, and when the nodes change.
 */
class TestCycleMemoProperties
{
    @Property(tries = 200)
    void aReusedCycleDecidesAsAFreshOne(@ForAll long seed, @ForAll @IntRange(min = 1, max = 6) int nodeCount, @ForAll @IntRange(min = 0, max = 14) int pendingCount,
            @ForAll @IntRange(min = 0, max = 7) int policyIndex, @ForAll @IntRange(min = 1, max = 8) int steps)
    {
        SplittableRandom random = new SplittableRandom(seed);
        String policy = PlacementPolicies.names().get(policyIndex);
        SchedulingOptions options = SchedulingOptions.defaults().withSeed(seed).withStarvationAge(50);
        SchedulingCycle reused = new SchedulingCycle(PlacementPolicies.byName(policy), options);
        ClusterSnapshot snapshot = TestSchedulingProperties.Scenario.generate(random, nodeCount, pendingCount, policy).snapshot();
        long sequence = 1_000;
        long start = 1_000;
        for (int step = 0; step < steps; step++) {
            Decisions decisions = reused.run(snapshot);
            assertThat(decisions).isEqualTo(new SchedulingCycle(PlacementPolicies.byName(policy), options).run(snapshot));

            // the next snapshot: victims and some running work finish, placed work starts, new work arrives
            Set<String> gone = new HashSet<>();
            decisions.preemptions().forEach(preemption -> gone.add(preemption.victimId()));
            List<RunningAllocation> running = new ArrayList<>();
            for (RunningAllocation allocation : snapshot.running()) {
                if (!gone.contains(allocation.experimentId()) && random.nextInt(4) > 0) {
                    running.add(allocation);
                }
            }
            Map<String, PendingExperiment> pending = new HashMap<>();
            snapshot.pending().forEach(job -> pending.put(job.id(), job));
            for (Placement placement : decisions.placements()) {
                PendingExperiment job = pending.remove(placement.experimentId());
                RunningAllocation started = new RunningAllocation(job.id(), job.project(), job.priority(), job.preemptible(), start++, placement.replicas());
                // mostly at the end, as a service lists newer work; sometimes in between
                running.add(random.nextInt(4) == 0 ? random.nextInt(running.size() + 1) : running.size(), started);
            }
            switch (random.nextInt(6)) {
                case 0 -> Collections.shuffle(running, new Random(random.nextLong()));
                case 1 -> running.replaceAll(allocation -> new RunningAllocation(allocation.experimentId(), allocation.project(), allocation.priority(),
                        allocation.preemptible(), allocation.startSequence(), new ArrayList<>(allocation.replicas())));
                default -> { }
            }
            List<Node> nodes = new ArrayList<>(snapshot.nodes());
            if (random.nextInt(5) == 0) {
                int index = random.nextInt(nodes.size());
                Node node = nodes.get(index);
                nodes.set(index, new Node(node.name(), node.cpuMilli(), node.memoryMib(), node.gpus(), !node.schedulable()));
            }
            List<PendingExperiment> waiting = new ArrayList<>();
            for (PendingExperiment job : snapshot.pending()) {
                if (pending.containsKey(job.id())) {
                    waiting.add(new PendingExperiment(job.id(), job.project(), job.priority(), job.preemptible(), job.replicas(), job.request(), job.arrivalSequence(), job.age() + 1));
                }
            }
            for (int i = random.nextInt(4); i > 0; i--) {
                GpuRequest gpu = random.nextBoolean() ? GpuRequest.fraction(1 + random.nextInt(1000)) : GpuRequest.whole(1 + random.nextInt(2));
                String project = snapshot.quotas().get(random.nextInt(snapshot.quotas().size())).project();
                waiting.add(new PendingExperiment("later" + sequence, project, random.nextInt(4), random.nextInt(10) < 7, 1 + random.nextInt(2),
                        new ResourceRequest(gpu, random.nextInt(5) * 1_000L, random.nextInt(9) * 1_024L), sequence++, 0));
            }
            snapshot = new ClusterSnapshot(nodes, snapshot.quotas(), snapshot.departments(), running, waiting, snapshot.workload());
        }
    }
}

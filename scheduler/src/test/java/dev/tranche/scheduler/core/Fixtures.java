package dev.tranche.scheduler.core;

import dev.tranche.scheduler.core.model.ClusterSnapshot;
import dev.tranche.scheduler.core.model.GpuRequest;
import dev.tranche.scheduler.core.model.Node;
import dev.tranche.scheduler.core.model.PendingExperiment;
import dev.tranche.scheduler.core.model.ProjectQuota;
import dev.tranche.scheduler.core.model.ReplicaPlacement;
import dev.tranche.scheduler.core.model.ResourceRequest;
import dev.tranche.scheduler.core.model.RunningAllocation;
import dev.tranche.scheduler.core.placement.PlacementPolicies;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Small builders for test clusters; every test builds real objects. */
final class Fixtures
{
    private Fixtures() {}

    static Node node(String name, int gpus)
    {
        return Node.of(name, 64_000, 262_144, gpus, "A100", 40_960);
    }

    static ResourceRequest gpus(GpuRequest gpu)
    {
        return new ResourceRequest(gpu, 1_000, 1_024);
    }

    static PendingExperiment pending(String id, String project, ResourceRequest request)
    {
        return pending(id, project, 0, 1, request);
    }

    static PendingExperiment pending(String id, String project, int priority, int replicas, ResourceRequest request)
    {
        return new PendingExperiment(id, project, priority, true, replicas, request, sequence(id), 0);
    }

    static RunningAllocation running(String id, String project, int priority, boolean preemptible, long start, String node, int... wholeGpus)
    {
        Map<Integer, Integer> milli = new LinkedHashMap<>();
        for (int gpu : wholeGpus) {
            milli.put(gpu, 1000);
        }
        return new RunningAllocation(id, project, priority, preemptible, start, List.of(new ReplicaPlacement(node, milli, 1_000L * wholeGpus.length, 1_024L * wholeGpus.length)));
    }

    static RunningAllocation runningFraction(String id, String project, String node, int gpu, int milli)
    {
        return new RunningAllocation(id, project, 0, true, 0, List.of(new ReplicaPlacement(node, Map.of(gpu, milli), 1_000, 1_024)));
    }

    static Decisions schedule(List<Node> nodes, List<ProjectQuota> quotas, List<RunningAllocation> running, List<PendingExperiment> pending)
    {
        return cycle(PlacementPolicies.DEFAULT).run(new ClusterSnapshot(nodes, quotas, running, pending));
    }

    static SchedulingCycle cycle(String policy)
    {
        return new SchedulingCycle(PlacementPolicies.byName(policy), SchedulingOptions.defaults());
    }

    static List<ProjectQuota> quotas(ProjectQuota... quotas)
    {
        return new ArrayList<>(List.of(quotas));
    }

    private static long sequence(String id)
    {
        return Math.abs((long) id.hashCode());
    }
}

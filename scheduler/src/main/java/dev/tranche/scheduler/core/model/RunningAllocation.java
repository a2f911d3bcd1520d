package dev.tranche.scheduler.core.model;

import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * An experiment that holds resources. {@code startSequence} orders starts: higher is more recent,
 * which makes it an earlier preemption victim among equals.
 */
public record RunningAllocation(String experimentId, String project, int priority, boolean preemptible, long startSequence, List<ReplicaPlacement> replicas)
{
    public RunningAllocation
    {
        requireNonNull(experimentId, "experimentId is null");
        requireNonNull(project, "project is null");
        replicas = List.copyOf(requireNonNull(replicas, "replicas is null"));
        if (replicas.isEmpty()) {
            throw new IllegalArgumentException("running experiment " + experimentId + " has no replicas");
        }
    }

    public long gpuMilli()
    {
        long total = 0;
        for (ReplicaPlacement replica : replicas) {
            total += replica.totalGpuMilli();
        }
        return total;
    }

    public long cpuMilli()
    {
        long total = 0;
        for (ReplicaPlacement replica : replicas) {
            total += replica.cpuMilli();
        }
        return total;
    }

    public long memoryMib()
    {
        long total = 0;
        for (ReplicaPlacement replica : replicas) {
            total += replica.memoryMib();
        }
        return total;
    }
}

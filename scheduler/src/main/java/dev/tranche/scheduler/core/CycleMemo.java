package dev.tranche.scheduler.core;

import dev.tranche.scheduler.core.model.Node;
import dev.tranche.scheduler.core.model.RunningAllocation;
import dev.tranche.scheduler.core.placement.ClusterState;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What one cycle may hand to the next so that loading a snapshot does not start from nothing: the
 * empty cluster (shapes sorted and hashed once) and every running experiment already resolved to
 * node and GPU positions. Both are pure functions of immutable snapshot parts (the node list; one
 * {@link RunningAllocation} record), checked on reuse, so a cycle with a memo decides exactly as one
 * without. A memo is used by one cycle at a time.
 */
final class CycleMemo
{
    /** A running experiment resolved against the node list of {@link #empty}, with its totals. */
    record Loaded(RunningAllocation allocation, ClusterState.Holding[] replicas, long gpuMilli, long cpuMilli, long memoryMib)
    {
        static Loaded of(RunningAllocation allocation, ClusterState state)
        {
            ClusterState.Holding[] replicas = new ClusterState.Holding[allocation.replicas().size()];
            long gpu = 0;
            long cpu = 0;
            long memory = 0;
            for (int r = 0; r < replicas.length; r++) {
                replicas[r] = state.resolve(allocation.replicas().get(r));
                gpu += replicas[r].gpuMilli();
                cpu += replicas[r].cpuMilli();
                memory += replicas[r].memoryMib();
            }
            return new Loaded(allocation, replicas, gpu, cpu, memory);
        }
    }

    private List<Node> nodes;
    /** Never changed: each cycle works on a copy. */
    private ClusterState empty;
    private final Map<String, Loaded> loaded = new HashMap<>();

    /** A fresh copy of the empty cluster for {@code nodes}; forgets everything else when the nodes changed. */
    ClusterState emptyCluster(List<Node> nodes)
    {
        if (empty == null || !this.nodes.equals(nodes)) {
            this.nodes = nodes;
            this.empty = new ClusterState(nodes);
            loaded.clear();
        }
        return new ClusterState(empty);
    }

    /**
     * The allocation resolved against the node list last given to {@link #emptyCluster}; reused only
     * while the snapshot holds the very same record (the records are immutable).
     *
     * @throws IllegalArgumentException for an unknown node or GPU
     */
    Loaded load(RunningAllocation allocation, ClusterState state)
    {
        Loaded known = loaded.get(allocation.experimentId());
        if (known == null || known.allocation() != allocation) {
            known = Loaded.of(allocation, state);
            loaded.put(allocation.experimentId(), known);
        }
        return known;
    }

    /** Drops allocations that the cycle just loaded did not hold, once they outnumber the live ones. */
    void endCycle(List<RunningAllocation> running)
    {
        if (loaded.size() > 2 * running.size() + 1024) {
            Map<String, Loaded> keep = new HashMap<>(running.size() * 4 / 3 + 16);
            for (RunningAllocation allocation : running) {
                Loaded known = loaded.get(allocation.experimentId());
                if (known != null) {
                    keep.put(allocation.experimentId(), known);
                }
            }
            loaded.clear();
            loaded.putAll(keep);
        }
    }
}

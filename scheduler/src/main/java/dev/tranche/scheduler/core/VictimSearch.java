package dev.tranche.scheduler.core;

import dev.tranche.scheduler.core.model.PendingExperiment;
import dev.tranche.scheduler.core.model.ReplicaPlacement;
import dev.tranche.scheduler.core.model.ResourceRequest;
import dev.tranche.scheduler.core.model.RunningAllocation;
import dev.tranche.scheduler.core.placement.ClusterState;
import dev.tranche.scheduler.core.placement.NodeShape;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Finds a small set of victims whose eviction lets a gang fit, and places the gang there.
 *
 * <p>Victims are taken in the caller's order (cheapest to lose first) until the cluster could hold
 * every replica, then each taken victim is put back, most valuable first, if the gang still fits
 * without evicting it. The fit test is the sum over nodes of how many replicas each node could take:
 * replicas of one gang are alike, so that sum is exact, and evicting a victim changes it only on the
 * victim's nodes. The search runs on scratch copies of the touched nodes' free resources, so it costs
 * a few array updates per candidate; only the final victims touch the cluster state.
 */
final class VictimSearch
{
    record Plan(List<RunningAllocation> victims, List<ReplicaPlacement> placements) {}

    private final ClusterState state;
    private final Session session;
    private final ResourceRequest request;
    private final int[] capacity;
    private final long[] cpuFree;
    private final long[] memoryFree;
    private final int[][] gpuFree;
    private long total;

    private VictimSearch(Session session, ResourceRequest request)
    {
        this.session = session;
        this.state = session.state();
        this.request = request;
        int nodes = state.nodeCount();
        capacity = new int[nodes];
        cpuFree = new long[nodes];
        memoryFree = new long[nodes];
        gpuFree = new int[nodes][];
        // nodes in one shape are in the same state: one capacity per shape, not per node (a large
        // cluster has a few shapes and 10,000 nodes, and a cycle may search for several requests)
        for (NodeShape shape : state.shapes()) {
            if (shape.size() == 0) {
                continue;
            }
            int each = state.capacity(shape.member(0), request);
            if (each == 0) {
                continue;
            }
            for (int i = 0; i < shape.size(); i++) {
                capacity[shape.member(i)] = each;
            }
            total += (long) each * shape.size();
        }
    }

    /** On success the victims are evicted and the gang placed in the session's statement (not committed). */
    static Optional<Plan> find(Session session, PendingExperiment job, List<RunningAllocation> candidates)
    {
        if (candidates.isEmpty()) {
            return Optional.empty();
        }
        VictimSearch search = new VictimSearch(session, job.request());
        List<RunningAllocation> taken = new ArrayList<>();
        for (RunningAllocation victim : candidates) {
            if (search.total >= job.replicas()) {
                break;
            }
            search.apply(victim, +1);
            taken.add(victim);
        }
        if (search.total < job.replicas()) {
            return Optional.empty();
        }
        for (int i = taken.size() - 1; i >= 0; i--) {
            RunningAllocation victim = taken.get(i);
            search.apply(victim, -1);
            if (search.total >= job.replicas()) {
                taken.remove(i);
            }
            else {
                search.apply(victim, +1);
            }
        }
        int checkpoint = session.statement().checkpoint();
        for (RunningAllocation victim : taken) {
            session.statement().evict(victim);
        }
        Optional<List<ReplicaPlacement>> gang = session.statement().placeGang(job.request(), job.replicas());
        if (gang.isEmpty()) {
            session.statement().rollback(checkpoint);
            return Optional.empty();
        }
        return Optional.of(new Plan(List.copyOf(taken), gang.get()));
    }

    /** Frees (+1) or takes back (-1) the victim's resources in the scratch copies and updates the total. */
    private void apply(RunningAllocation victim, int sign)
    {
        int index = session.borrowableIndex(victim);
        if (index < 0) {
            throw new IllegalArgumentException("victim candidates come from the session's borrowable work: " + victim.experimentId() + " is not");
        }
        // the rows the session resolved when it loaded the running work: no lookups by node name
        CycleMemo.Table table = session.runningTable();
        for (int row = table.firstRow[index], end = table.firstRow[index + 1]; row < end; row++) {
            int node = table.node[row];
            touch(node);
            cpuFree[node] += sign * table.cpu[row];
            memoryFree[node] += sign * table.memory[row];
            for (int entry = table.gpuStart[row], last = table.gpuStart[row + 1]; entry < last; entry++) {
                gpuFree[node][table.gpuPosition[entry]] += sign * table.gpuMilli[entry];
            }
            update(node);
        }
    }

    private void touch(int node)
    {
        if (gpuFree[node] == null) {
            cpuFree[node] = state.cpuFree(node);
            memoryFree[node] = state.memoryFree(node);
            gpuFree[node] = state.gpuFreeCopy(node);
        }
    }

    private void update(int node)
    {
        int now = state.capacity(node, cpuFree[node], memoryFree[node], gpuFree[node], request);
        total += now - capacity[node];
        capacity[node] = now;
    }
}

package dev.tranche.scheduler.core;

import dev.tranche.scheduler.core.model.PendingExperiment;
import dev.tranche.scheduler.core.model.ReplicaPlacement;
import dev.tranche.scheduler.core.model.ResourceRequest;
import dev.tranche.scheduler.core.model.RunningAllocation;
import dev.tranche.scheduler.core.placement.ClusterState;

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
 * victim's nodes. That keeps the search linear in the number of candidates.
 */
final class VictimSearch
{
    record Plan(List<RunningAllocation> victims, List<ReplicaPlacement> placements) {}

    private VictimSearch() {}

    /** On success the victims are evicted and the gang placed in the session's statement (not committed). */
    static Optional<Plan> find(Session session, PendingExperiment job, List<RunningAllocation> candidates)
    {
        if (candidates.isEmpty()) {
            return Optional.empty();
        }
        ClusterState state = session.state;
        ResourceRequest request = job.request();
        int[] capacity = new int[state.nodeCount()];
        long total = 0;
        for (int node = 0; node < capacity.length; node++) {
            capacity[node] = state.capacity(node, request);
            total += capacity[node];
        }
        int checkpoint = session.statement.checkpoint();
        List<RunningAllocation> taken = new ArrayList<>();
        for (RunningAllocation victim : candidates) {
            if (total >= job.replicas()) {
                break;
            }
            session.statement.evict(victim);
            taken.add(victim);
            total += refresh(state, request, capacity, victim);
        }
        if (total < job.replicas()) {
            session.statement.rollback(checkpoint);
            return Optional.empty();
        }
        for (int i = taken.size() - 1; i >= 0; i--) {
            RunningAllocation victim = taken.get(i);
            session.statement.restore(victim);
            long change = refresh(state, request, capacity, victim);
            if (total + change >= job.replicas()) {
                total += change;
                taken.remove(i);
            }
            else {
                session.statement.evict(victim);
                refresh(state, request, capacity, victim);
            }
        }
        Optional<List<ReplicaPlacement>> gang = session.statement.placeGang(request, job.replicas());
        if (gang.isEmpty()) {
            session.statement.rollback(checkpoint);
            return Optional.empty();
        }
        return Optional.of(new Plan(List.copyOf(taken), gang.get()));
    }

    /** Recomputes the capacity of the victim's nodes; returns the change of the total. */
    private static long refresh(ClusterState state, ResourceRequest request, int[] capacity, RunningAllocation victim)
    {
        long change = 0;
        for (ReplicaPlacement replica : victim.replicas()) {
            int node = state.indexOf(replica.node());
            int now = state.capacity(node, request);
            change += now - capacity[node];
            capacity[node] = now;
        }
        return change;
    }
}

package dev.tranche.scheduler.core;

import dev.tranche.scheduler.core.model.ReplicaPlacement;
import dev.tranche.scheduler.core.model.ResourceRequest;
import dev.tranche.scheduler.core.model.RunningAllocation;
import dev.tranche.scheduler.core.placement.ClusterState;
import dev.tranche.scheduler.core.placement.Placer;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Tentative changes to the cluster state with checkpoints: a gang is placed replica by replica and,
 * if one replica finds no room, everything since the checkpoint is undone, so a gang is all or nothing.
 */
final class Statement
{
    private final ClusterState state;
    private final Placer placer;
    // undone in reverse order
    private final List<Change> changes = new ArrayList<>();

    /** One replica's resources taken from the cluster or given back to it. */
    private record Change(boolean taken, ReplicaPlacement replica)
    {
        void undo(ClusterState state)
        {
            if (taken) {
                state.release(replica);
            }
            else {
                state.allocate(replica);
            }
        }
    }

    Statement(ClusterState state, Placer placer)
    {
        this.state = state;
        this.placer = placer;
    }

    int checkpoint()
    {
        return changes.size();
    }

    Optional<ReplicaPlacement> place(ResourceRequest request)
    {
        Optional<ReplicaPlacement> placement = placer.place(request);
        placement.ifPresent(taken -> changes.add(new Change(true, taken)));
        return placement;
    }

    /** All replicas of the gang, or empty with nothing changed. */
    Optional<List<ReplicaPlacement>> placeGang(ResourceRequest request, int replicas)
    {
        int checkpoint = checkpoint();
        List<ReplicaPlacement> placed = new ArrayList<>(replicas);
        for (int i = 0; i < replicas; i++) {
            Optional<ReplicaPlacement> replica = place(request);
            if (replica.isEmpty()) {
                rollback(checkpoint);
                return Optional.empty();
            }
            placed.add(replica.get());
        }
        return Optional.of(placed);
    }

    void evict(RunningAllocation allocation)
    {
        for (ReplicaPlacement replica : allocation.replicas()) {
            state.release(replica);
            changes.add(new Change(false, replica));
        }
    }

    void restore(RunningAllocation allocation)
    {
        for (ReplicaPlacement replica : allocation.replicas()) {
            state.allocate(replica);
            changes.add(new Change(true, replica));
        }
    }

    void rollback(int checkpoint)
    {
        for (int i = changes.size() - 1; i >= checkpoint; i--) {
            changes.remove(i).undo(state);
        }
    }

    /** Keeps every change made so far. */
    void commit()
    {
        changes.clear();
    }
}

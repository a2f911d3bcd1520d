package dev.tranche.scheduler.core;

import dev.tranche.scheduler.core.model.ReplicaPlacement;

import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * A gang decision: where every replica of the experiment goes (index = rank). When
 * {@code afterEvicting} is not empty the room is held by those experiments, which this cycle
 * preempts: launch only once they have stopped.
 */
public record Placement(String experimentId, List<ReplicaPlacement> replicas, List<String> afterEvicting)
{
    public Placement
    {
        requireNonNull(experimentId, "experimentId is null");
        replicas = List.copyOf(requireNonNull(replicas, "replicas is null"));
        afterEvicting = List.copyOf(requireNonNull(afterEvicting, "afterEvicting is null"));
        if (replicas.isEmpty()) {
            throw new IllegalArgumentException("placement of " + experimentId + " has no replicas");
        }
    }
}

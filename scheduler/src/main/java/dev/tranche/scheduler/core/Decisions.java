package dev.tranche.scheduler.core;

import java.util.List;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * The outcome of one cycle: gangs to launch, experiments to stop for them, and for every pending
 * experiment not placed, why. Every pending experiment of the snapshot appears in exactly one of
 * {@code placements} and {@code unplaced}.
 */
public record Decisions(List<Placement> placements, List<Preemption> preemptions, List<Unplaced> unplaced)
{
    public Decisions
    {
        placements = List.copyOf(requireNonNull(placements, "placements is null"));
        preemptions = List.copyOf(requireNonNull(preemptions, "preemptions is null"));
        unplaced = List.copyOf(requireNonNull(unplaced, "unplaced is null"));
    }

    public Optional<Placement> placementOf(String experimentId)
    {
        return placements.stream().filter(placement -> placement.experimentId().equals(experimentId)).findFirst();
    }

    public Optional<Unplaced> unplacedOf(String experimentId)
    {
        return unplaced.stream().filter(entry -> entry.experimentId().equals(experimentId)).findFirst();
    }
}

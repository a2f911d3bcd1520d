package dev.tranche.scheduler.experiment;

import java.time.Instant;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/** One step of an experiment's timeline; {@code from} is empty for the submission itself. */
public record Transition(String experimentId, Optional<ExperimentState> from, ExperimentState to, String reason, Instant at)
{
    public Transition
    {
        requireNonNull(experimentId, "experimentId is null");
        requireNonNull(from, "from is null");
        requireNonNull(to, "to is null");
        requireNonNull(reason, "reason is null");
        requireNonNull(at, "at is null");
    }
}

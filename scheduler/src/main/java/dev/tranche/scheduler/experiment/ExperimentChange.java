package dev.tranche.scheduler.experiment;

import static java.util.Objects.requireNonNull;

/** What watchers are told after a change is committed: the experiment as it now is, and the step. */
public record ExperimentChange(ExperimentRecord experiment, Transition transition)
{
    public ExperimentChange
    {
        requireNonNull(experiment, "experiment is null");
        requireNonNull(transition, "transition is null");
    }
}

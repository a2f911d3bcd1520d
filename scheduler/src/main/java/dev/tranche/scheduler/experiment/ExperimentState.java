package dev.tranche.scheduler.experiment;

import java.util.EnumSet;
import java.util.Set;

/**
 * The life of an experiment. PREEMPTED is a resting state on the way back to PENDING, so the
 * timeline shows that an experiment gave its GPUs back and why.
 */
public enum ExperimentState
{
    PENDING,
    SCHEDULED,
    RUNNING,
    SUCCEEDED,
    FAILED,
    CANCELLED,
    PREEMPTED;

    public boolean isTerminal()
    {
        return this == SUCCEEDED || this == FAILED || this == CANCELLED;
    }

    /** SCHEDULED and RUNNING experiments hold their GPUs; every other state has given them back. */
    public boolean holdsGpus()
    {
        return this == SCHEDULED || this == RUNNING;
    }

    public boolean canMoveTo(ExperimentState next)
    {
        return successors().contains(next);
    }

    public Set<ExperimentState> successors()
    {
        return switch (this) {
            case PENDING -> EnumSet.of(SCHEDULED, CANCELLED, FAILED);
            case SCHEDULED -> EnumSet.of(RUNNING, PENDING, PREEMPTED, CANCELLED, FAILED);
            case RUNNING -> EnumSet.of(SUCCEEDED, FAILED, CANCELLED, PREEMPTED, PENDING);
            case PREEMPTED -> EnumSet.of(PENDING, CANCELLED);
            case SUCCEEDED, FAILED, CANCELLED -> EnumSet.noneOf(ExperimentState.class);
        };
    }

    /** The states from which an experiment may still be cancelled. */
    public static Set<ExperimentState> cancellable()
    {
        EnumSet<ExperimentState> states = EnumSet.noneOf(ExperimentState.class);
        for (ExperimentState state : values()) {
            if (state.canMoveTo(CANCELLED)) {
                states.add(state);
            }
        }
        return states;
    }
}

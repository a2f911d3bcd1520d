package dev.tranche.scheduler.core;

import dev.tranche.scheduler.core.model.PendingExperiment;
import dev.tranche.scheduler.core.model.RunningAllocation;

/**
 * A victim filter plugin: which running work an eviction action (reclaim, preempt, preempt-by-rank)
 * may take for a waiting experiment, the preemptor. An action admits a candidate only if every one
 * of its filters does. Filters only narrow: the pool they choose from is always the session's
 * borrowable work (preemptible and beyond its project's deserved share), so protected in-quota work
 * and non-preemptible work are never candidates, whatever a configuration says.
 *
 * <p>The named filters are in {@link VictimFilters}.
 */
public interface VictimFilter
{
    String name();

    /** Whether {@code candidate} may be evicted to make room for {@code preemptor}. */
    boolean admits(SessionView session, PendingExperiment preemptor, RunningAllocation candidate);

    /**
     * What of the preemptor this filter reads: two preemptors with equal keys are admitted the same
     * candidates. An action remembers by these keys that a gang shape found no victims, and skips
     * the search for the next preemptor with the same keys.
     */
    Object preemptorKey(SessionView session, PendingExperiment preemptor);

    /** What a filter may read of the cycle besides the two experiments; read-only. */
    interface SessionView
    {
        /** The ordering's rank of a pending experiment: lower goes first among equals. */
        long rank(PendingExperiment job);

        /** The ordering's rank of running work, on the same scale as a pending experiment's. */
        long rank(RunningAllocation allocation);
    }
}

package dev.tranche.scheduler.core;

/**
 * Tunables of one scheduling cycle.
 *
 * @param seed seeds the random that breaks ties between equally good nodes; same seed, same decisions
 * @param starvationAge an experiment whose age (as the caller counts it) reaches this is starving:
 *         it goes first within its priority and rank, and while it cannot be placed it holds the
 *         nodes closest to taking it (one such experiment per project and cycle), so that work
 *         behind it cannot keep taking the room it waits for there; elsewhere placement goes on
 * @param reclaim whether starved in-quota work may preempt other projects' over-quota work
 * @param preempt whether higher-priority work may preempt lower-priority work of its own project
 */
public record SchedulingOptions(long seed, long starvationAge, boolean reclaim, boolean preempt)
{
    public static final long DEFAULT_SEED = 42;
    public static final long DEFAULT_STARVATION_AGE = 100;

    public SchedulingOptions
    {
        if (starvationAge < 1) {
            throw new IllegalArgumentException("starvationAge must be >= 1, got " + starvationAge);
        }
    }

    public static SchedulingOptions defaults()
    {
        return new SchedulingOptions(DEFAULT_SEED, DEFAULT_STARVATION_AGE, true, true);
    }

    public SchedulingOptions withSeed(long newSeed)
    {
        return new SchedulingOptions(newSeed, starvationAge, reclaim, preempt);
    }

    public SchedulingOptions withStarvationAge(long age)
    {
        return new SchedulingOptions(seed, age, reclaim, preempt);
    }
}

package dev.tranche.scheduler.core;

import static java.util.Objects.requireNonNull;

/** A running experiment to stop so that {@code forExperimentId} can start. */
public record Preemption(String victimId, String forExperimentId, Kind kind, String reason)
{
    public enum Kind
    {
        /** An in-quota project takes back GPUs another project borrowed beyond its deserved share. */
        RECLAIM,
        /** Higher-priority work of the same project takes the place of lower-priority work. */
        PRIORITY,
        /** Work that has had less GPU service takes the place of work that has had more (ordering with preemption by rank). */
        RANK,
    }

    public Preemption
    {
        requireNonNull(victimId, "victimId is null");
        requireNonNull(forExperimentId, "forExperimentId is null");
        requireNonNull(kind, "kind is null");
        requireNonNull(reason, "reason is null");
    }
}

package dev.tranche.scheduler.project;

import dev.tranche.spec.Numbers;

import java.time.Instant;
import java.util.OptionalLong;

import static java.util.Objects.requireNonNull;

/** A department: the upper level of two-level queues, whose quota covers all its projects together. */
public record DepartmentRecord(String name, String description, long deservedMilli, OptionalLong limitMilli, Instant createdAt)
{
    public DepartmentRecord
    {
        requireNonNull(name, "name is null");
        requireNonNull(description, "description is null");
        requireNonNull(limitMilli, "limitMilli is null");
        requireNonNull(createdAt, "createdAt is null");
        if (deservedMilli < 0 || deservedMilli > ProjectRecord.MAX_MILLI) {
            throw new IllegalArgumentException("quota.deserved_gpus must be in [0, " + ProjectRecord.MAX_MILLI / 1000 + "]: got " + Numbers.plain(deservedMilli / 1000.0));
        }
        if (limitMilli.isPresent() && (limitMilli.getAsLong() < deservedMilli || limitMilli.getAsLong() > ProjectRecord.MAX_MILLI)) {
            throw new IllegalArgumentException("quota.limit_gpus must be at least deserved_gpus (" + Numbers.plain(deservedMilli / 1000.0)
                    + ") and at most " + ProjectRecord.MAX_MILLI / 1000 + ": got " + Numbers.plain(limitMilli.getAsLong() / 1000.0));
        }
    }
}

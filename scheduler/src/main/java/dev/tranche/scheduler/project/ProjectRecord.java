package dev.tranche.scheduler.project;

import dev.tranche.spec.Numbers;

import java.time.Instant;
import java.util.Optional;
import java.util.OptionalLong;

import static java.util.Objects.requireNonNull;

/**
 * A project and its GPU quota in milli-GPUs: what it is guaranteed ({@code deservedMilli}), an
 * optional hard cap, and its weight when idle GPUs are shared out.
 */
public record ProjectRecord(String name, String description, Optional<String> department, long deservedMilli, OptionalLong limitMilli, double overQuotaWeight,
        Instant createdAt)
{
    public static final long MAX_MILLI = 1_000_000_000L;
    public static final double MAX_WEIGHT = 1000;

    public ProjectRecord
    {
        requireNonNull(name, "name is null");
        requireNonNull(description, "description is null");
        requireNonNull(department, "department is null");
        requireNonNull(limitMilli, "limitMilli is null");
        requireNonNull(createdAt, "createdAt is null");
        if (deservedMilli < 0 || deservedMilli > MAX_MILLI) {
            throw new IllegalArgumentException("quota.deserved_gpus must be in [0, " + MAX_MILLI / 1000 + "]: got " + deservedMilli / 1000.0);
        }
        if (limitMilli.isPresent() && (limitMilli.getAsLong() < deservedMilli || limitMilli.getAsLong() > MAX_MILLI)) {
            throw new IllegalArgumentException("quota.limit_gpus must be at least deserved_gpus (" + Numbers.plain(deservedMilli / 1000.0)
                    + ") and at most " + MAX_MILLI / 1000 + ": got " + Numbers.plain(limitMilli.getAsLong() / 1000.0));
        }
        if (!(overQuotaWeight > 0 && overQuotaWeight <= MAX_WEIGHT)) {
            throw new IllegalArgumentException("quota.over_quota_weight must be in (0, " + (int) MAX_WEIGHT + "]: got " + overQuotaWeight);
        }
    }
}

package dev.tranche.scheduler.security;

import java.time.Instant;

import static java.util.Objects.requireNonNull;

/** One audit event. {@code id} is 0 until stored. Long fields are cut so a hostile request cannot bloat the log. */
public record AuditEntry(long id, Instant at, String actor, String action, String target, String outcome, String detail, String remoteAddress)
{
    static final int MAX_FIELD = 500;

    public AuditEntry
    {
        requireNonNull(at, "at is null");
        actor = cut(actor);
        action = cut(action);
        target = cut(target);
        outcome = cut(outcome);
        detail = cut(detail);
        remoteAddress = cut(remoteAddress);
    }

    private static String cut(String value)
    {
        requireNonNull(value, "audit field is null");
        return value.length() <= MAX_FIELD ? value : value.substring(0, MAX_FIELD) + "...";
    }
}

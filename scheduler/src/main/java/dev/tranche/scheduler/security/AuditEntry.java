package dev.tranche.scheduler.security;

import java.time.Instant;

import static java.util.Objects.requireNonNull;

/**
 * One audit event. {@code id} is 0 until stored. Long fields are cut so a hostile request cannot bloat
 * the log, and control characters are written as escapes: PostgreSQL text cannot hold NUL, and a
 * refusal must be recorded whatever bytes the refused caller sent.
 */
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
        String kept = value.length() <= MAX_FIELD ? value : value.substring(0, MAX_FIELD) + "...";
        return escapeControls(kept);
    }

    /** NUL, other control characters and lone surrogates as visible escapes (\u0000); everything else as it is. */
    static String escapeControls(String value)
    {
        StringBuilder escaped = null;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            boolean bad = Character.isISOControl(c) && c != '\t' && c != '\n'
                    || Character.isHighSurrogate(c) && (i + 1 >= value.length() || !Character.isLowSurrogate(value.charAt(i + 1)))
                    || Character.isLowSurrogate(c) && (i == 0 || !Character.isHighSurrogate(value.charAt(i - 1)));
            if (bad && escaped == null) {
                escaped = new StringBuilder(value.length() + 8).append(value, 0, i);
            }
            if (escaped != null) {
                if (bad) {
                    escaped.append(String.format("\\u%04x", (int) c));
                }
                else {
                    escaped.append(c);
                }
            }
        }
        return escaped == null ? value : escaped.toString();
    }
}

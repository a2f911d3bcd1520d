package dev.tranche.scheduler.security;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

import static java.util.Objects.requireNonNull;

/** A stored token: everything but its secret, of which only a hash is kept. */
public record TokenRecord(
        String id,
        String subject,
        Role role,
        List<String> projects,
        Instant createdAt,
        String createdBy,
        Optional<Instant> expiresAt,
        Optional<Instant> revokedAt,
        Optional<Instant> lastUsedAt)
{
    public static final int MAX_SUBJECT_LENGTH = 128;
    public static final int MAX_PROJECTS = 100;
    private static final Pattern SUBJECT = Pattern.compile("[\\p{L}\\p{N} ._@+-]{1," + MAX_SUBJECT_LENGTH + "}");

    public TokenRecord
    {
        requireNonNull(id, "id is null");
        checkSubject(subject);
        requireNonNull(role, "role is null");
        projects = List.copyOf(requireNonNull(projects, "projects is null"));
        requireNonNull(createdAt, "createdAt is null");
        requireNonNull(createdBy, "createdBy is null");
        requireNonNull(expiresAt, "expiresAt is null");
        requireNonNull(revokedAt, "revokedAt is null");
        requireNonNull(lastUsedAt, "lastUsedAt is null");
    }

    public static String checkSubject(String subject)
    {
        requireNonNull(subject, "subject is null");
        if (!SUBJECT.matcher(subject).matches()) {
            throw new IllegalArgumentException("subject must be 1.." + MAX_SUBJECT_LENGTH
                    + " letters, digits, spaces or . _ @ + -: got \"" + (subject.length() > 40 ? subject.substring(0, 40) + "..." : subject) + "\"");
        }
        return subject;
    }

    public boolean activeAt(Instant now)
    {
        return revokedAt.isEmpty() && expiresAt.map(now::isBefore).orElse(true);
    }

    public Principal.User principal()
    {
        return new Principal.User(id, subject, role, java.util.Set.copyOf(projects), expiresAt);
    }
}

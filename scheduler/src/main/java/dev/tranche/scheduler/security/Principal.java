package dev.tranche.scheduler.security;

import java.time.Instant;
import java.util.Optional;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/** Who is calling: a person or service holding a user token, or one experiment's worker. */
public sealed interface Principal
        permits Principal.User, Principal.Worker
{
    /** For the audit log: "subject (token id)" or "worker of experiment". */
    String describe();

    /** The key rate limits are counted under. */
    String rateKey();

    boolean canRead(String project);

    boolean canWrite(String project);

    default boolean isAdmin()
    {
        return false;
    }

    /** @param expiresAt when the token stops being valid (a call that lasts, such as a watch, ends then) */
    record User(String tokenId, String subject, Role role, Set<String> projects, Optional<Instant> expiresAt)
            implements Principal
    {
        public User
        {
            requireNonNull(tokenId, "tokenId is null");
            requireNonNull(subject, "subject is null");
            requireNonNull(role, "role is null");
            projects = Set.copyOf(requireNonNull(projects, "projects is null"));
            requireNonNull(expiresAt, "expiresAt is null");
        }

        @Override
        public String describe()
        {
            return subject + " (" + tokenId + ")";
        }

        @Override
        public String rateKey()
        {
            return tokenId;
        }

        @Override
        public boolean canRead(String project)
        {
            return role == Role.ADMIN || projects.contains(project);
        }

        @Override
        public boolean canWrite(String project)
        {
            return role == Role.ADMIN || role == Role.MEMBER && projects.contains(project);
        }

        @Override
        public boolean isAdmin()
        {
            return role == Role.ADMIN;
        }
    }

    /** A worker's per-experiment credential: it may report metrics for that experiment and nothing else. */
    record Worker(String experimentId)
            implements Principal
    {
        public Worker
        {
            requireNonNull(experimentId, "experimentId is null");
        }

        @Override
        public String describe()
        {
            return "worker of " + experimentId;
        }

        @Override
        public String rateKey()
        {
            return "worker:" + experimentId;
        }

        @Override
        public boolean canRead(String project)
        {
            return false;
        }

        @Override
        public boolean canWrite(String project)
        {
            return false;
        }
    }
}

package dev.tranche.scheduler.security;

import java.util.Optional;

/** Who may call a method or route at all; the services then narrow it to the caller's projects. */
public enum AccessRule
{
    /** No token: health checks and the login page. */
    PUBLIC(Optional.empty()),
    /** A worker's per-experiment credential only (metric reports). */
    WORKER(Optional.empty()),
    VIEWER(Optional.of(Role.VIEWER)),
    MEMBER(Optional.of(Role.MEMBER)),
    /** Admins only; every call is written to the audit log. */
    ADMIN(Optional.of(Role.ADMIN));

    private final Optional<Role> minimum;

    AccessRule(Optional<Role> minimum)
    {
        this.minimum = minimum;
    }

    public Optional<Role> minimumRole()
    {
        return minimum;
    }

    public boolean audited()
    {
        return this == ADMIN;
    }
}

package dev.tranche.scheduler.security;

/** What a user token may do; each role can do everything the one below it can. */
public enum Role
{
    VIEWER,
    MEMBER,
    ADMIN;

    public boolean atLeast(Role other)
    {
        return compareTo(other) >= 0;
    }
}

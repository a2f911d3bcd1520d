package dev.tranche.scheduler.security;

/** A token that is missing, unknown, expired or revoked: UNAUTHENTICATED / 401, with this reason. */
public final class AuthenticationException
        extends RuntimeException
{
    public AuthenticationException(String message)
    {
        super(message);
    }
}

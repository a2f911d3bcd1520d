package dev.tranche.scheduler.security;

import static java.util.Objects.requireNonNull;

/** A new token and its secret, which is shown to its creator once and never stored. */
public record IssuedToken(TokenRecord token, String secret)
{
    public IssuedToken
    {
        requireNonNull(token, "token is null");
        requireNonNull(secret, "secret is null");
    }

    @Override
    public String toString()
    {
        // never print the secret by accident
        return "IssuedToken[" + token.id() + "]";
    }
}

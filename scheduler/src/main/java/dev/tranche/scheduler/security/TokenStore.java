package dev.tranche.scheduler.security;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** Where API tokens are kept (their secrets only as hashes); the store package implements it. */
public interface TokenStore
{
    /** A token and the hash of its secret, as a lookup finds it. */
    record Stored(TokenRecord token, byte[] secretHash) {}

    TokenRecord create(String id, String subject, Role role, List<String> projects, String createdBy, Optional<Instant> expiresAt, String lookupKey,
            byte[] secretHash);

    /** The bootstrap admin token: created, or its secret replaced. */
    void upsertBootstrap(String id, String subject, String lookupKey, byte[] secretHash);

    Optional<Stored> findByLookupKey(String lookupKey);

    Optional<TokenRecord> find(String id);

    boolean anyActiveAdmin();

    List<TokenRecord> list(boolean includeInactive);

    TokenRecord revoke(String id);

    /** Records when a token was last used. */
    void touch(String id, Instant at);
}

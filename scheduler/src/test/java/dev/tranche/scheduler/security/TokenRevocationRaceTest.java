package dev.tranche.scheduler.security;

import dev.tranche.scheduler.metrics.WorkerCredentials;
import dev.tranche.scheduler.store.TokenRepository;
import dev.tranche.scheduler.testing.TestingDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A token revoked while a request is looking it up must not stay valid: the lookup read the row
 * before the revoke, the revoke found nothing cached to drop, and the lookup then cached the stale
 * row, which let the token in for another cache period (5 s).
 */
final class TokenRevocationRaceTest
{
    @RegisterExtension
    static final TestingDatabase DATABASE = new TestingDatabase();

    @Test
    void aTokenRevokedWhileItIsBeingLookedUpIsRefusedAtItsNextUse()
            throws Exception
    {
        CountDownLatch reading = new CountDownLatch(1);
        CountDownLatch revoked = new CountDownLatch(1);
        TokenRepository database = new TokenRepository(DATABASE.dataSource());
        // the real store, with the first lookup held between reading its row and answering
        TokenStore slowFirstLookup = new DelegatingStore(database)
        {
            private boolean first = true;

            @Override
            public Optional<Stored> findByLookupKey(String lookupKey)
            {
                Optional<Stored> row = super.findByLookupKey(lookupKey);
                if (first) {
                    first = false;
                    reading.countDown();
                    await(revoked);
                }
                return row;
            }
        };
        TokenService tokens = new TokenService(slowFirstLookup, new TokenSecrets(), new WorkerCredentials(new byte[32]), project -> true, Clock.systemUTC());
        IssuedToken issued = tokens.issue("test", "racer", Role.ADMIN, List.of(), Optional.empty());

        CompletableFuture<Principal> inFlight = CompletableFuture.supplyAsync(() -> tokens.authenticate(issued.secret()));
        assertThat(reading.await(10, TimeUnit.SECONDS)).isTrue();
        tokens.revoke(issued.token().id());
        revoked.countDown();
        // the request that was already in flight when the revoke came may pass
        inFlight.get(10, TimeUnit.SECONDS);

        assertThatThrownBy(() -> tokens.authenticate(issued.secret()))
                .isInstanceOf(AuthenticationException.class)
                .hasMessageContaining("was revoked");
    }

    private static void await(CountDownLatch latch)
    {
        try {
            assertThat(latch.await(10, TimeUnit.SECONDS)).isTrue();
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Passes every call to the real store. */
    private static class DelegatingStore
            implements TokenStore
    {
        private final TokenStore delegate;

        DelegatingStore(TokenStore delegate)
        {
            this.delegate = delegate;
        }

        @Override
        public TokenRecord create(String id, String subject, Role role, List<String> projects, String createdBy, Optional<Instant> expiresAt, String lookupKey,
                byte[] secretHash)
        {
            return delegate.create(id, subject, role, projects, createdBy, expiresAt, lookupKey, secretHash);
        }

        @Override
        public void upsertBootstrap(String id, String subject, String lookupKey, byte[] secretHash)
        {
            delegate.upsertBootstrap(id, subject, lookupKey, secretHash);
        }

        @Override
        public Optional<Stored> findByLookupKey(String lookupKey)
        {
            return delegate.findByLookupKey(lookupKey);
        }

        @Override
        public Optional<TokenRecord> find(String id)
        {
            return delegate.find(id);
        }

        @Override
        public boolean anyActiveAdmin()
        {
            return delegate.anyActiveAdmin();
        }

        @Override
        public List<TokenRecord> list(boolean includeInactive)
        {
            return delegate.list(includeInactive);
        }

        @Override
        public TokenRecord revoke(String id)
        {
            return delegate.revoke(id);
        }

        @Override
        public void touch(String id, Instant at)
        {
            delegate.touch(id, at);
        }
    }
}

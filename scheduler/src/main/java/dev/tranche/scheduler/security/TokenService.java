package dev.tranche.scheduler.security;

import dev.tranche.scheduler.metrics.WorkerCredentials;

import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.Predicate;

import static java.util.Objects.requireNonNull;

/**
 * Issues, checks and revokes bearer tokens. A presented secret is hashed, the row found by the hash's
 * lookup key, and the whole hash compared in constant time. Rows are cached for a few seconds so
 * that a busy client does not cost a query per call; a revoke here drops the cached row at once.
 */
public final class TokenService
{
    public static final String BOOTSTRAP_ID = "tok-admin";
    public static final Duration MAX_TTL = Duration.ofDays(3650);
    private static final Duration CACHE_TTL = Duration.ofSeconds(5);
    private static final Duration TOUCH_INTERVAL = Duration.ofMinutes(1);
    private static final int MAX_CACHED = 10_000;

    private final TokenStore repository;
    private final TokenSecrets secrets;
    private final WorkerCredentials workerCredentials;
    private final Predicate<String> projectExists;
    private final Clock clock;
    private final ConcurrentMap<String, Cached> cache = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, Instant> touched = new ConcurrentHashMap<>();
    private final List<Consumer<String>> revocationListeners = new CopyOnWriteArrayList<>();
    /** Orders cache writes against revocations ({@link #revocations} counts them). */
    private final Object cacheWrites = new Object();
    private long revocations;

    public TokenService(TokenStore repository, TokenSecrets secrets, WorkerCredentials workerCredentials, Predicate<String> projectExists, Clock clock)
    {
        this.repository = requireNonNull(repository, "repository is null");
        this.secrets = requireNonNull(secrets, "secrets is null");
        this.workerCredentials = requireNonNull(workerCredentials, "workerCredentials is null");
        this.projectExists = requireNonNull(projectExists, "projectExists is null");
        this.clock = requireNonNull(clock, "clock is null");
    }

    /**
     * Makes sure an admin can get in. With {@code fromEnvironment} (TRANCHE_ADMIN_TOKEN) that token
     * becomes the admin token; otherwise, if no active admin token exists (the first start), a new
     * one is created and returned so the caller can show it once.
     */
    public Optional<String> ensureAdmin(Optional<String> fromEnvironment)
    {
        if (fromEnvironment.isPresent()) {
            String secret = fromEnvironment.get();
            if (secret.length() < TokenSecrets.MIN_EXTERNAL_LENGTH || secret.length() > TokenSecrets.MAX_LENGTH || !secret.chars().allMatch(c -> c > 32 && c < 127)) {
                throw new IllegalArgumentException("TRANCHE_ADMIN_TOKEN must be " + TokenSecrets.MIN_EXTERNAL_LENGTH + ".." + TokenSecrets.MAX_LENGTH
                        + " printable ASCII characters without spaces (for example from `openssl rand -hex 32`): got " + secret.length() + " characters");
            }
            byte[] hash = TokenSecrets.hash(secret);
            repository.upsertBootstrap(BOOTSTRAP_ID, "admin", TokenSecrets.lookupKey(hash), hash);
            cache.clear();
            return Optional.empty();
        }
        if (repository.anyActiveAdmin()) {
            return Optional.empty();
        }
        return Optional.of(issue("scheduler (first start)", "admin", Role.ADMIN, List.of(), Optional.empty()).secret());
    }

    /**
     * A new admin token for an admin locked out (the one shown at first start lost): made by
     * {@code tranche admin reset-token} on the machine that holds the scheduler's data. With
     * {@code revokeOthers}, every other active admin token stops working (here at once, in a running
     * scheduler once its cache of a few seconds expires).
     */
    public AdminReset resetAdmin(String createdBy, String subject, boolean revokeOthers)
    {
        IssuedToken issued = issue(createdBy, subject, Role.ADMIN, List.of(), Optional.empty());
        List<TokenRecord> revoked = new ArrayList<>();
        if (revokeOthers) {
            for (TokenRecord token : repository.list(false)) {
                if (token.role() == Role.ADMIN && !token.id().equals(issued.token().id())) {
                    revoked.add(revoke(token.id()));
                }
            }
        }
        return new AdminReset(issued, revoked);
    }

    /** What {@link #resetAdmin} did: the new token, and the admin tokens it revoked. */
    public record AdminReset(IssuedToken issued, List<TokenRecord> revoked)
    {
        public AdminReset
        {
            requireNonNull(issued, "issued is null");
            revoked = List.copyOf(revoked);
        }
    }

    public IssuedToken issue(String createdBy, String subject, Role role, List<String> projects, Optional<Duration> ttl)
    {
        TokenRecord.checkSubject(subject);
        requireNonNull(role, "role is null");
        List<String> granted = new ArrayList<>(new LinkedHashSet<>(projects));
        if (role == Role.ADMIN && !granted.isEmpty()) {
            throw new IllegalArgumentException("an admin token reaches every project: give no projects");
        }
        if (role != Role.ADMIN && granted.isEmpty()) {
            throw new IllegalArgumentException("a " + role.name().toLowerCase(java.util.Locale.ROOT) + " token needs at least one project");
        }
        if (granted.size() > TokenRecord.MAX_PROJECTS) {
            throw new IllegalArgumentException("a token may name at most " + TokenRecord.MAX_PROJECTS + " projects: got " + granted.size());
        }
        for (String project : granted) {
            if (!projectExists.test(project)) {
                throw new IllegalArgumentException("project " + (project.length() > 63 ? project.substring(0, 63) + "..." : project) + " does not exist");
            }
        }
        Optional<Instant> expiresAt = Optional.empty();
        if (ttl.isPresent()) {
            if (ttl.get().isNegative() || ttl.get().isZero() || ttl.get().compareTo(MAX_TTL) > 0) {
                throw new IllegalArgumentException("ttl must be between 1 second and " + MAX_TTL.toDays() + " days: got " + ttl.get().toSeconds() + " s");
            }
            expiresAt = Optional.of(clock.instant().plus(ttl.get()));
        }
        String secret = secrets.newSecret();
        byte[] hash = TokenSecrets.hash(secret);
        TokenRecord token = repository.create(secrets.newId(), subject, role, granted, createdBy, expiresAt, TokenSecrets.lookupKey(hash), hash);
        return new IssuedToken(token, secret);
    }

    /** The caller behind a bearer secret: a user token, or a worker's per-experiment credential. */
    public Principal authenticate(String secret)
    {
        if (secret == null || secret.isEmpty()) {
            throw new AuthenticationException("a bearer token is required (metadata \"authorization: Bearer <token>\")");
        }
        if (secret.length() > TokenSecrets.MAX_LENGTH) {
            throw new AuthenticationException("the token is not valid");
        }
        if (WorkerCredentials.looksLikeOne(secret)) {
            return workerCredentials.experimentOf(secret)
                    .<Principal>map(Principal.Worker::new)
                    .orElseThrow(() -> new AuthenticationException("the worker credential is not valid"));
        }
        byte[] hash = TokenSecrets.hash(secret);
        String lookupKey = TokenSecrets.lookupKey(hash);
        Instant now = clock.instant();
        TokenStore.Stored stored = lookup(lookupKey, now)
                .orElseThrow(() -> new AuthenticationException("the token is not valid"));
        if (!MessageDigest.isEqual(hash, stored.secretHash())) {
            throw new AuthenticationException("the token is not valid");
        }
        TokenRecord token = stored.token();
        if (token.revokedAt().isPresent()) {
            throw new AuthenticationException("token " + token.id() + " was revoked at " + token.revokedAt().get());
        }
        if (token.expiresAt().isPresent() && !now.isBefore(token.expiresAt().get())) {
            throw new AuthenticationException("token " + token.id() + " expired at " + token.expiresAt().get());
        }
        touch(token.id(), now);
        return token.principal();
    }

    public Optional<TokenRecord> find(String id)
    {
        return repository.find(id);
    }

    public List<TokenRecord> list(boolean includeInactive)
    {
        return repository.list(includeInactive);
    }

    /** Told the id of each token revoked here, after the revoke: streams opened with it end (they were authenticated once, at their start). */
    public void onRevoke(Consumer<String> listener)
    {
        revocationListeners.add(requireNonNull(listener, "listener is null"));
    }

    public TokenRecord revoke(String id)
    {
        TokenRecord revoked = repository.revoke(id);
        synchronized (cacheWrites) {
            revocations++;
            cache.values().removeIf(cached -> cached.stored().token().id().equals(id));
        }
        revocationListeners.forEach(listener -> listener.accept(id));
        return revoked;
    }

    private Optional<TokenStore.Stored> lookup(String lookupKey, Instant now)
    {
        Cached cached = cache.get(lookupKey);
        if (cached != null && cached.fetchedAt().plus(CACHE_TTL).isAfter(now)) {
            return Optional.of(cached.stored());
        }
        long revocationsBefore;
        synchronized (cacheWrites) {
            revocationsBefore = revocations;
        }
        Optional<TokenStore.Stored> stored = repository.findByLookupKey(lookupKey);
        if (stored.isPresent()) {
            synchronized (cacheWrites) {
                // a revoke while the row was read may have found nothing to drop yet: then the row may be stale, so it is not kept
                if (revocations == revocationsBefore) {
                    if (cache.size() >= MAX_CACHED) {
                        cache.clear();
                    }
                    cache.put(lookupKey, new Cached(stored.get(), now));
                }
            }
        }
        return stored;
    }

    private void touch(String id, Instant now)
    {
        Instant last = touched.get(id);
        if (last == null || last.plus(TOUCH_INTERVAL).isBefore(now)) {
            touched.put(id, now);
            repository.touch(id, now);
        }
    }

    private record Cached(TokenStore.Stored stored, Instant fetchedAt) {}
}

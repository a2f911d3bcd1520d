package dev.tranche.scheduler.security;

import io.grpc.Status;

import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

import static java.util.Objects.requireNonNull;

/**
 * Failed authentications per client address, gRPC and HTTP together. Each failure (no token, an
 * unknown, expired or revoked one) takes from the address's budget; an address that has spent it is
 * refused before its token is looked up, until it slows down, so guessing tokens costs neither a
 * database lookup nor an audit row per attempt. Refusals past the budget are counted and written to
 * the audit log as one summary row per address by {@link #summarize()}.
 */
public final class FailedAuthentications
        implements AutoCloseable
{
    private static final int MAX_ADDRESSES = 100_000;

    private final RateLimiter budget;
    private final AuditLog audit;
    private final Clock clock;
    private final ConcurrentMap<String, AtomicLong> refused = new ConcurrentHashMap<>();
    private ScheduledExecutorService summaries;

    /** {@code perSecond} 0 turns the limit off. */
    public FailedAuthentications(double perSecond, int burstSeconds, AuditLog audit, Clock clock, LongSupplier nanoTime)
    {
        this.budget = new RateLimiter(perSecond, Math.max(1, perSecond * burstSeconds), nanoTime);
        this.audit = requireNonNull(audit, "audit is null");
        this.clock = requireNonNull(clock, "clock is null");
    }

    /** Whether {@code address} may try to authenticate now; if not, the refusal is counted for the summary. */
    public boolean admit(String address)
    {
        String key = key(address);
        if (budget.hasCapacity(key)) {
            return true;
        }
        if (refused.size() < MAX_ADDRESSES || refused.containsKey(key)) {
            refused.computeIfAbsent(key, ignored -> new AtomicLong()).incrementAndGet();
        }
        return false;
    }

    /** Takes a failed attempt from the address's budget. */
    public void failed(String address)
    {
        budget.tryAcquire(key(address));
    }

    /** The answer to an address over its budget. */
    public Status refusal(String address)
    {
        return Status.RESOURCE_EXHAUSTED.withDescription("too many failed authentications from " + key(address)
                + "; wait a few seconds, and check that the token is right and not expired or revoked");
    }

    /** One audit row per address refused since the last call, with the count. */
    public void summarize()
    {
        for (Map.Entry<String, AtomicLong> entry : refused.entrySet()) {
            long count = entry.getValue().getAndSet(0);
            if (count == 0) {
                refused.remove(entry.getKey(), entry.getValue());
                continue;
            }
            audit.record(new AuditEntry(0, clock.instant(), "anonymous", "authenticate", "", Status.Code.RESOURCE_EXHAUSTED.name(),
                    count + " attempts refused: too many failed authentications from this address", entry.getKey()));
        }
    }

    /** Writes the summaries every {@code interval} on a thread of its own, until closed. */
    public synchronized FailedAuthentications summarizeEvery(Duration interval)
    {
        if (summaries == null) {
            summaries = Executors.newSingleThreadScheduledExecutor(runnable -> {
                Thread thread = new Thread(runnable, "tranche-auth-summaries");
                thread.setDaemon(true);
                return thread;
            });
            summaries.scheduleWithFixedDelay(this::summarize, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
        }
        return this;
    }

    @Override
    public synchronized void close()
    {
        if (summaries != null) {
            summaries.shutdownNow();
        }
        summarize();
    }

    /** The address without its port, and the browser's address for calls the HTTP API forwards. */
    static String key(String address)
    {
        String host = address.startsWith("http ") ? address.substring(5) : address;
        if (host.startsWith("[")) {
            int end = host.indexOf(']');
            return end > 0 ? host.substring(1, end) : host;
        }
        int colon = host.lastIndexOf(':');
        return colon > 0 && host.indexOf(':') == colon ? host.substring(0, colon) : host;
    }
}

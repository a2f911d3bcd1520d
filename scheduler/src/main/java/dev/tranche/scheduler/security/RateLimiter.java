package dev.tranche.scheduler.security;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.LongSupplier;

/** A token bucket per caller: {@code perSecond} requests a second on average, bursts up to {@code burst}. */
public final class RateLimiter
{
    private static final int MAX_BUCKETS = 100_000;

    private final double perSecond;
    private final double burst;
    private final LongSupplier nanoTime;
    private final ConcurrentMap<String, Bucket> buckets = new ConcurrentHashMap<>();

    /** {@code perSecond} 0 turns limiting off. */
    public RateLimiter(double perSecond, double burst, LongSupplier nanoTime)
    {
        if (perSecond < 0 || burst < 1 && perSecond > 0) {
            throw new IllegalArgumentException("rate limit must be >= 0 with a burst >= 1: got " + perSecond + "/s, burst " + burst);
        }
        this.perSecond = perSecond;
        this.burst = burst;
        this.nanoTime = nanoTime;
    }

    public boolean enabled()
    {
        return perSecond > 0;
    }

    public double perSecond()
    {
        return perSecond;
    }

    /** Whether the caller's bucket holds a request now, without taking it. */
    public boolean hasCapacity(String key)
    {
        if (!enabled()) {
            return true;
        }
        Bucket bucket = buckets.get(key);
        return bucket == null || bucket.available(perSecond, burst, nanoTime.getAsLong()) >= 1;
    }

    /** Takes one request from the caller's bucket; false when it is empty. */
    public boolean tryAcquire(String key)
    {
        if (!enabled()) {
            return true;
        }
        if (buckets.size() > MAX_BUCKETS) {
            // many callers (tokens come and go): forget them all; each starts again with a full bucket
            buckets.clear();
        }
        return buckets.computeIfAbsent(key, ignored -> new Bucket(burst, nanoTime.getAsLong())).take(perSecond, burst, nanoTime.getAsLong());
    }

    private static final class Bucket
    {
        private double tokens;
        private long last;

        Bucket(double tokens, long now)
        {
            this.tokens = tokens;
            this.last = now;
        }

        synchronized double available(double perSecond, double burst, long now)
        {
            return Math.min(burst, tokens + (now - last) / 1e9 * perSecond);
        }

        synchronized boolean take(double perSecond, double burst, long now)
        {
            tokens = Math.min(burst, tokens + (now - last) / 1e9 * perSecond);
            last = now;
            if (tokens < 1) {
                return false;
            }
            tokens -= 1;
            return true;
        }
    }
}

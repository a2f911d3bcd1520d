package dev.tranche.scheduler.testing;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicReference;

import static java.util.Objects.requireNonNull;

/** The system clock, moved forward by a test: a token's expiry comes without waiting for it. */
public final class AdjustableClock
        extends Clock
{
    private final AtomicReference<Duration> offset = new AtomicReference<>(Duration.ZERO);

    public void advance(Duration by)
    {
        requireNonNull(by, "by is null");
        if (by.isNegative()) {
            throw new IllegalArgumentException("a clock only moves forward: got " + by);
        }
        offset.accumulateAndGet(by, Duration::plus);
    }

    @Override
    public Instant instant()
    {
        return Instant.now().plus(offset.get());
    }

    @Override
    public ZoneId getZone()
    {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone)
    {
        throw new UnsupportedOperationException("the tests' clock is UTC");
    }
}

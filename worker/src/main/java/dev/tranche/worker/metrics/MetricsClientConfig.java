package dev.tranche.worker.metrics;

import java.time.Duration;

import static java.util.Objects.requireNonNull;

/**
 * How the worker reports metrics.
 *
 * @param experimentId the experiment the points belong to
 * @param credential the per-experiment credential the scheduler gave the worker
 * @param rank the replica reporting
 * @param bufferCapacity points held while the scheduler cannot be reached; beyond it the oldest are dropped (and counted)
 * @param batchSize points per batch at most
 * @param flushInterval how long a point may wait for its batch to fill
 * @param initialBackoff first wait after a failed send; doubles up to {@code maxBackoff}
 * @param maxBackoff longest wait between retries
 * @param deadline how long one send may take
 */
public record MetricsClientConfig(
        String experimentId,
        String credential,
        int rank,
        int bufferCapacity,
        int batchSize,
        Duration flushInterval,
        Duration initialBackoff,
        Duration maxBackoff,
        Duration deadline)
{
    public MetricsClientConfig
    {
        requireNonNull(experimentId, "experimentId is null");
        requireNonNull(credential, "credential is null");
        requireNonNull(flushInterval, "flushInterval is null");
        requireNonNull(initialBackoff, "initialBackoff is null");
        requireNonNull(maxBackoff, "maxBackoff is null");
        requireNonNull(deadline, "deadline is null");
        if (experimentId.isEmpty()) {
            throw new IllegalArgumentException("experimentId is empty");
        }
        if (rank < 0 || bufferCapacity < 1 || batchSize < 1 || batchSize > bufferCapacity) {
            throw new IllegalArgumentException("need rank >= 0 and 1 <= batchSize <= bufferCapacity: rank " + rank + ", batch " + batchSize + ", buffer " + bufferCapacity);
        }
        if (initialBackoff.isNegative() || initialBackoff.isZero() || maxBackoff.compareTo(initialBackoff) < 0) {
            throw new IllegalArgumentException("need 0 < initialBackoff <= maxBackoff");
        }
    }

    /** Defaults: 10,000 points buffered, batches of 500, flushed every 2 s, retries from 0.5 s up to 30 s, 10 s a send. */
    public static MetricsClientConfig defaults(String experimentId, String credential, int rank)
    {
        return new MetricsClientConfig(experimentId, credential, rank, 10_000, 500, Duration.ofSeconds(2),
                Duration.ofMillis(500), Duration.ofSeconds(30), Duration.ofSeconds(10));
    }
}

package dev.tranche.scheduler.experiment;

import java.time.Instant;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/** An experiment as stored: its validated spec (defaults filled in) and where it is in its life. */
public record ExperimentRecord(
        String id,
        long sequence,
        ExperimentSpec spec,
        ExperimentState state,
        String reason,
        Optional<String> requestId,
        long version,
        Instant createdAt,
        Instant updatedAt,
        Optional<Waiting> waiting,
        long attainedGpuSeconds,
        int attempts,
        int failedAttempts)
{
    public ExperimentRecord
    {
        requireNonNull(id, "id is null");
        requireNonNull(spec, "spec is null");
        requireNonNull(state, "state is null");
        requireNonNull(reason, "reason is null");
        requireNonNull(requestId, "requestId is null");
        requireNonNull(createdAt, "createdAt is null");
        requireNonNull(updatedAt, "updatedAt is null");
        requireNonNull(waiting, "waiting is null");
        if (attainedGpuSeconds < 0) {
            throw new IllegalArgumentException("attainedGpuSeconds must be >= 0: got " + attainedGpuSeconds);
        }
        // no order between the two: an experiment placed before attempts were counted has 0 attempts yet may have failed
        if (attempts < 0 || failedAttempts < 0) {
            throw new IllegalArgumentException("attempts must be >= 0: got " + attempts + " and " + failedAttempts + " failed");
        }
        if (version < 1) {
            throw new IllegalArgumentException("version must be at least 1: got " + version);
        }
    }

    /**
     * Why it waits, while PENDING: as the last cycle that considered it explained it, or QUEUED with
     * the reason it has (given at submission or requeue) when no cycle has yet.
     */
    public Optional<Waiting> waitingNow()
    {
        if (state != ExperimentState.PENDING) {
            return Optional.empty();
        }
        return Optional.of(waiting.orElseGet(() -> Waiting.of(WaitingReason.QUEUED, reason)));
    }

    public String project()
    {
        return spec.project();
    }
}

package dev.tranche.scheduler.server;

import dev.tranche.cli.Durations;
import dev.tranche.scheduler.execution.ExecutionController;

import java.time.Duration;

import static java.util.Objects.requireNonNull;

/**
 * How the scheduling loop paces itself and how long work waits before it counts as starving (see
 * docs/admin-guide.md, "Scheduling cycle").
 *
 * @param cycleInterval the longest time between two cycles when nothing changes (a new submission or
 *         freed GPUs start one sooner)
 * @param cycleGap the shortest time between two cycles, so a burst of submissions is served by one;
 *         the loop also waits twice its last cycle's time, so scheduling takes at most a third of a core
 * @param starvationAge how long an experiment may wait before it goes first in its project and,
 *         while it does not fit, holds the nodes expected to free room for it soonest
 * @param lineWindow how many experiments of each line of alike pending work a cycle considers at first
 * @param preemptionGrace how long a worker that is preempted or cancelled gets to checkpoint after
 *         SIGTERM before it is killed (Kubernetes: the pods' termination grace period too)
 * @param startTimeout how long after its placement a gang's workers may take to be all up (image
 *         pulls, a wait for the previous attempt's workers to checkpoint included); past it the attempt
 *         is stopped and counts as failed; longer than {@code preemptionGrace}
 */
public record SchedulingSettings(Duration cycleInterval, Duration cycleGap, Duration starvationAge, int lineWindow, Duration preemptionGrace,
        Duration startTimeout)
{
    public static final SchedulingSettings DEFAULTS = new SchedulingSettings(Duration.ofSeconds(1), Duration.ofMillis(200), Duration.ofMinutes(5), 16,
            Duration.ofSeconds(60), ExecutionController.DEFAULT_START_TIMEOUT);

    public SchedulingSettings
    {
        requireNonNull(cycleInterval, "cycleInterval is null");
        requireNonNull(cycleGap, "cycleGap is null");
        requireNonNull(starvationAge, "starvationAge is null");
        requireNonNull(preemptionGrace, "preemptionGrace is null");
        requireNonNull(startTimeout, "startTimeout is null");
        if (cycleInterval.compareTo(Duration.ofMillis(100)) < 0 || cycleInterval.compareTo(Duration.ofMinutes(10)) > 0) {
            throw new IllegalArgumentException("--cycle-interval must be between 100ms and 10m: got " + Durations.format(cycleInterval));
        }
        if (cycleGap.compareTo(Duration.ofMillis(10)) < 0 || cycleGap.compareTo(cycleInterval) > 0) {
            throw new IllegalArgumentException("--cycle-gap must be between 10ms and --cycle-interval (" + Durations.format(cycleInterval) + "): got " + Durations.format(cycleGap));
        }
        if (starvationAge.compareTo(Duration.ofSeconds(1)) < 0 || starvationAge.compareTo(Duration.ofDays(30)) > 0) {
            throw new IllegalArgumentException("--starvation-age must be between 1s and 720h: got " + Durations.format(starvationAge));
        }
        if (lineWindow < 1 || lineWindow > 1024) {
            throw new IllegalArgumentException("the line window must be between 1 and 1024: got " + lineWindow);
        }
        if (preemptionGrace.compareTo(Duration.ofSeconds(1)) < 0 || preemptionGrace.compareTo(Duration.ofHours(1)) > 0) {
            throw new IllegalArgumentException("--preemption-grace must be between 1s and 1h (a worker checkpoints within it): got " + Durations.format(preemptionGrace));
        }
        if (startTimeout.compareTo(Duration.ofSeconds(10)) < 0 || startTimeout.compareTo(Duration.ofHours(24)) > 0) {
            throw new IllegalArgumentException("--start-timeout must be between 10s and 24h: got " + Durations.format(startTimeout));
        }
        if (startTimeout.compareTo(preemptionGrace) <= 0) {
            throw new IllegalArgumentException("--start-timeout (" + Durations.format(startTimeout) + ") must be longer than --preemption-grace (" + Durations.format(preemptionGrace)
                    + "): a new attempt may wait that long for the previous one's workers to checkpoint; raise --start-timeout or lower --preemption-grace");
        }
    }

    /** Both at once, as the gap is bounded by the interval: one at a time, the first would be checked against the other's old value. */
    public SchedulingSettings withCycle(Duration cycleInterval, Duration cycleGap)
    {
        return new SchedulingSettings(cycleInterval, cycleGap, starvationAge, lineWindow, preemptionGrace, startTimeout);
    }

    public SchedulingSettings withStarvationAge(Duration starvationAge)
    {
        return new SchedulingSettings(cycleInterval, cycleGap, starvationAge, lineWindow, preemptionGrace, startTimeout);
    }

    /** Both at once, as the start timeout must be longer than the grace: one at a time, the first would be checked against the other's old value. */
    public SchedulingSettings withExecution(Duration preemptionGrace, Duration startTimeout)
    {
        return new SchedulingSettings(cycleInterval, cycleGap, starvationAge, lineWindow, preemptionGrace, startTimeout);
    }
}

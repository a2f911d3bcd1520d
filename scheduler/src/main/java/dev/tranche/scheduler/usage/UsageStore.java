package dev.tranche.scheduler.usage;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/** Where usage over time is kept: one sample a minute per project and for the cluster, with a retention. */
public interface UsageStore
{
    /**
     * Samples now (to the minute: a second call within the same minute replaces that minute's sample) and deletes
     * samples older than {@code retention}. Returns the projects' part of the sample just taken.
     */
    List<ProjectSample> sample(Duration retention);

    /**
     * Samples and waits since {@code since}; {@code projects} empty: every project. Samples are
     * averaged over buckets of {@code step} (GPUs held and allocated: the mean; waiting: the most),
     * so a long period comes back in a bounded number of points.
     */
    UsageHistory history(Instant since, Optional<Set<String>> projects, Duration step);

    /**
     * What one project held, was entitled to and had waiting, at one minute (or, from {@link #history},
     * the mean over a bucket; {@code pending}: the most).
     *
     * @param pendingMilli the GPUs its PENDING experiments asked for: with {@code heldMilli}, its demand
     */
    record ProjectSample(Instant at, String project, long heldMilli, long deservedMilli, int pending, long pendingMilli)
    {
        public ProjectSample
        {
            requireNonNull(at, "at is null");
            requireNonNull(project, "project is null");
        }
    }

    /** What the cluster had (schedulable nodes' GPUs) and what was allocated, at one minute. */
    record ClusterSample(Instant at, long capacityMilli, long allocatedMilli)
    {
        public ClusterSample
        {
            requireNonNull(at, "at is null");
        }
    }

    /** How long the experiments of a project that first started on {@code day} (UTC) had waited since submission. */
    record DailyWait(LocalDate day, String project, int started, double p50Seconds, double p95Seconds)
    {
        public DailyWait
        {
            requireNonNull(day, "day is null");
            requireNonNull(project, "project is null");
        }
    }

    /** @param step the length of the buckets the samples were averaged over (at least a minute) */
    record UsageHistory(List<ProjectSample> projects, List<ClusterSample> cluster, List<DailyWait> waits, Duration step)
    {
        public UsageHistory
        {
            requireNonNull(step, "step is null");
            projects = List.copyOf(projects);
            cluster = List.copyOf(cluster);
            waits = List.copyOf(waits);
        }
    }
}

package dev.tranche.scheduler.usage;

import dev.tranche.scheduler.outcome.Outcomes;
import dev.tranche.scheduler.outcome.UsageTimeline;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

import static java.util.Objects.requireNonNull;

/**
 * Fairness over time from the recorded usage: Jain's index over projects of GPUs received against
 * GPUs deserved (capped by what each asked for), per hour, computed by the same code that scores a
 * {@code tranche simulate} replay ({@link Outcomes#fairnessByBucket}), so a replay's figure and the
 * live page's mean the same thing.
 */
public final class UsageFairness
{
    private static final Duration HOUR = Duration.ofHours(1);

    /** @param jain in (0, 1]: 1 when every project that asked got the same share of what it deserved */
    public record Hour(Instant start, double jain) {}

    /** @param mean over the hours where a project asked for GPUs it deserved; 1 when none did */
    public record Fairness(List<Hour> hours, double mean)
    {
        public Fairness
        {
            hours = List.copyOf(hours);
        }
    }

    private UsageFairness() {}

    /**
     * @param samples each project's samples, each standing for {@code step} from its time (as
     *         {@link UsageStore#history} returns them); minutes without a sample count as nothing held or asked
     */
    public static Fairness of(List<UsageStore.ProjectSample> samples, Duration step)
    {
        requireNonNull(samples, "samples is null");
        requireNonNull(step, "step is null");
        if (samples.isEmpty()) {
            return new Fairness(List.of(), 1);
        }
        List<String> projects = new ArrayList<>(new TreeSet<>(samples.stream().map(UsageStore.ProjectSample::project).toList()));
        Map<String, Integer> index = new HashMap<>();
        projects.forEach(project -> index.put(project, index.size()));
        Map<Instant, List<UsageStore.ProjectSample>> byTime = new TreeMap<>();
        samples.forEach(sample -> byTime.computeIfAbsent(sample.at(), ignored -> new ArrayList<>()).add(sample));
        // hours, or the samples' own buckets when those are longer (90 days come in 90-minute buckets)
        long bucket = Math.max(HOUR.toSeconds(), step.toSeconds());
        long first = byTime.keySet().iterator().next().getEpochSecond();
        long origin = Math.floorDiv(first, bucket) * bucket;
        UsageTimeline timeline = new UsageTimeline(projects, origin, bucket);
        double[] none = new double[projects.size()];
        double last = origin;
        for (Map.Entry<Instant, List<UsageStore.ProjectSample>> entry : byTime.entrySet()) {
            double at = entry.getKey().getEpochSecond();
            if (at > last) {
                timeline.advance(at, none, none, none);
            }
            double[] held = new double[projects.size()];
            double[] demand = new double[projects.size()];
            double[] deserved = new double[projects.size()];
            for (UsageStore.ProjectSample sample : entry.getValue()) {
                int p = index.get(sample.project());
                held[p] = sample.heldMilli() / 1000.0;
                demand[p] = (sample.heldMilli() + sample.pendingMilli()) / 1000.0;
                deserved[p] = sample.deservedMilli() / 1000.0;
            }
            last = Math.max(last, at + step.toSeconds());
            timeline.advance(last, held, demand, deserved);
        }
        double[] fairness = Outcomes.fairnessByBucket(timeline, timeline::deserved);
        List<Hour> hours = new ArrayList<>();
        for (int b = 0; b < fairness.length; b++) {
            if (!Double.isNaN(fairness[b])) {
                hours.add(new Hour(Instant.ofEpochSecond(origin + b * bucket), fairness[b]));
            }
        }
        return new Fairness(hours, Outcomes.meanOfCounted(fairness));
    }
}

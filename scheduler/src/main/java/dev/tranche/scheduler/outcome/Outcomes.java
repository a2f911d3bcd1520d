package dev.tranche.scheduler.outcome;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The outcome figures of a stretch of scheduling: completion times and waits over jobs, allocation
 * and fairness over a {@link UsageTimeline}. Pure functions; the live Usage page and
 * {@code tranche simulate} both call them.
 */
public final class Outcomes
{
    private Outcomes() {}

    /** Per project: jobs, average completion time, GPU-hours received, GPU-hours deserved (capped by demand, hour by hour). */
    public record ProjectOutcome(String project, int jobs, double avgJctSeconds, double avgWaitSeconds, double receivedGpuHours, double deservedGpuHours, double deservedGpus)
    {
    }

    public record Summary(
            int jobs,
            double avgJctSeconds,
            double p50JctSeconds,
            double p95JctSeconds,
            double p99JctSeconds,
            double avgWaitSeconds,
            double p95WaitSeconds,
            double makespanSeconds,
            double gpuAllocation,
            int preemptions,
            double lostGpuHours,
            double jainFairness,
            List<ProjectOutcome> projects)
    {
    }

    /**
     * @param deservedGpus each project's deserved GPUs (same order as the timeline's projects)
     * @param clusterGpus the GPUs of the cluster, for the time-averaged allocation
     * @param start when the stretch starts (the first arrival), for the makespan
     */
    public static Summary summarize(List<JobOutcome> jobs, UsageTimeline timeline, double[] deservedGpus, double clusterGpus, double start)
    {
        double[] jct = new double[jobs.size()];
        double[] waits = new double[jobs.size()];
        double end = start;
        int preemptions = 0;
        double lost = 0;
        for (int i = 0; i < jobs.size(); i++) {
            JobOutcome job = jobs.get(i);
            jct[i] = job.completionSeconds();
            waits[i] = job.waitSeconds();
            end = Math.max(end, job.finish());
            preemptions += job.preemptions();
            lost += job.lostGpuSeconds();
        }
        double makespan = end - start;
        Map<String, double[]> perProject = new LinkedHashMap<>();
        for (String project : timeline.projects()) {
            perProject.put(project, new double[3]);
        }
        for (JobOutcome job : jobs) {
            double[] sums = perProject.computeIfAbsent(job.project(), ignored -> new double[3]);
            sums[0]++;
            sums[1] += job.completionSeconds();
            sums[2] += job.waitSeconds();
        }
        List<ProjectOutcome> projects = new ArrayList<>();
        for (int p = 0; p < timeline.projects().size(); p++) {
            String name = timeline.projects().get(p);
            double received = 0;
            double deserved = 0;
            for (int b = 0; b < timeline.buckets(); b++) {
                received += timeline.held(b, p);
                deserved += Math.min(deservedGpus[p] * timeline.bucketSeconds(), timeline.demand(b, p));
            }
            double[] sums = perProject.get(name);
            projects.add(new ProjectOutcome(name, (int) sums[0], sums[0] == 0 ? 0 : sums[1] / sums[0], sums[0] == 0 ? 0 : sums[2] / sums[0],
                    received / 3600, deserved / 3600, deservedGpus[p]));
        }
        double allocation = makespan <= 0 || clusterGpus <= 0 ? 0 : timeline.clusterGpuSeconds() / (clusterGpus * makespan);
        return new Summary(jobs.size(), mean(jct), percentile(jct, 50), percentile(jct, 95), percentile(jct, 99), mean(waits), percentile(waits, 95),
                makespan, allocation, preemptions, lost / 3600, meanJain(timeline, deservedGpus), projects);
    }

    /**
     * Jain's index over projects of received / deserved, where deserved is capped by what the project
     * asked for in that bucket (held plus waiting); projects that asked for nothing or deserve nothing
     * are left out of the bucket. Averaged over the buckets where at least one project counts.
     */
    public static double meanJain(UsageTimeline timeline, double[] deservedGpus)
    {
        return meanOfCounted(fairnessByBucket(timeline, (bucket, project) -> deservedGpus[project] * timeline.bucketSeconds()));
    }

    /** GPU-seconds project {@code project} deserved in bucket {@code bucket}. */
    public interface Deserved
    {
        double gpuSeconds(int bucket, int project);
    }

    /**
     * Jain's index of each bucket over projects of received / entitled, entitled being what the
     * project deserved capped by what it asked for (held plus waiting); NaN for a bucket where no
     * project counts. {@link #meanJain} (simulate) and the live Usage page both read this.
     */
    public static double[] fairnessByBucket(UsageTimeline timeline, Deserved deserved)
    {
        double[] fairness = new double[timeline.buckets()];
        double[] shares = new double[timeline.projects().size()];
        for (int b = 0; b < timeline.buckets(); b++) {
            int n = 0;
            for (int p = 0; p < shares.length; p++) {
                double entitled = Math.min(deserved.gpuSeconds(b, p), timeline.demand(b, p));
                if (entitled > 1e-9) {
                    shares[n++] = timeline.held(b, p) / entitled;
                }
            }
            fairness[b] = n == 0 ? Double.NaN : jain(Arrays.copyOf(shares, n));
        }
        return fairness;
    }

    /** The mean over the buckets where a project counted; 1 when none did. */
    public static double meanOfCounted(double[] fairness)
    {
        double sum = 0;
        int counted = 0;
        for (double value : fairness) {
            if (!Double.isNaN(value)) {
                sum += value;
                counted++;
            }
        }
        return counted == 0 ? 1 : sum / counted;
    }

    /** (sum x)^2 / (n sum x^2); 1 when every x is 0 (nobody got anything: equally so). */
    public static double jain(double[] values)
    {
        double sum = 0;
        double squares = 0;
        for (double value : values) {
            sum += value;
            squares += value * value;
        }
        return squares == 0 ? 1 : sum * sum / (values.length * squares);
    }

    public static double mean(double[] values)
    {
        if (values.length == 0) {
            return 0;
        }
        double sum = 0;
        for (double value : values) {
            sum += value;
        }
        return sum / values.length;
    }

    /** Nearest-rank percentile (the smallest value with at least q% of values at or below it); 0 for none. */
    public static double percentile(double[] values, double q)
    {
        if (values.length == 0) {
            return 0;
        }
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int rank = (int) Math.ceil(q / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }
}

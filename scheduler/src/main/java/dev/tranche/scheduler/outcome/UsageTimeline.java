package dev.tranche.scheduler.outcome;

import java.util.ArrayList;
import java.util.List;

/**
 * GPU-seconds each project held and asked for, integrated over fixed buckets (an hour by default):
 * what the fairness index and the allocation-over-time charts read. Held and demand are piecewise
 * constant between calls to {@link #advance}.
 */
public final class UsageTimeline
{
    private final List<String> projects;
    private final double bucketSeconds;
    private final double origin;
    private final List<double[]> held = new ArrayList<>();
    private final List<double[]> demand = new ArrayList<>();
    private final List<double[]> deserved = new ArrayList<>();
    private double clusterGpuSeconds;
    private double last;

    public UsageTimeline(List<String> projects, double origin, double bucketSeconds)
    {
        if (!(bucketSeconds > 0)) {
            throw new IllegalArgumentException("bucket must be > 0 seconds, got " + bucketSeconds);
        }
        this.projects = List.copyOf(projects);
        this.origin = origin;
        this.last = origin;
        this.bucketSeconds = bucketSeconds;
    }

    public List<String> projects()
    {
        return projects;
    }

    public double bucketSeconds()
    {
        return bucketSeconds;
    }

    public double origin()
    {
        return origin;
    }

    /** From the last call to {@code to}, project p held {@code heldGpus[p]} GPUs and wanted {@code demandGpus[p]} (held plus waiting). */
    public void advance(double to, double[] heldGpus, double[] demandGpus)
    {
        advance(to, heldGpus, demandGpus, null);
    }

    /** The same, with what each project deserved meanwhile, for quotas that change over time (the live Usage page). */
    public void advance(double to, double[] heldGpus, double[] demandGpus, double[] deservedGpus)
    {
        if (to < last) {
            throw new IllegalArgumentException("time went back from " + last + " to " + to);
        }
        double clusterHeld = 0;
        for (double gpus : heldGpus) {
            clusterHeld += gpus;
        }
        clusterGpuSeconds += clusterHeld * (to - last);
        double from = last;
        while (from < to) {
            int bucket = (int) Math.floor((from - origin) / bucketSeconds);
            double end = Math.min(to, origin + (bucket + 1) * bucketSeconds);
            double span = end - from;
            if (span <= 0) {
                // floating point at a bucket edge: step into the next bucket
                from = Math.nextUp(from);
                continue;
            }
            double[] h = bucket(held, bucket);
            double[] d = bucket(demand, bucket);
            double[] e = bucket(deserved, bucket);
            for (int p = 0; p < projects.size(); p++) {
                h[p] += heldGpus[p] * span;
                d[p] += demandGpus[p] * span;
                if (deservedGpus != null) {
                    e[p] += deservedGpus[p] * span;
                }
            }
            from = end;
        }
        last = to;
    }

    private double[] bucket(List<double[]> list, int index)
    {
        while (list.size() <= index) {
            list.add(new double[projects.size()]);
        }
        return list.get(index);
    }

    public int buckets()
    {
        return held.size();
    }

    /** GPU-seconds project p held in bucket b. */
    public double held(int bucket, int project)
    {
        return bucket < held.size() ? held.get(bucket)[project] : 0;
    }

    /** GPU-seconds project p held or waited for in bucket b. */
    public double demand(int bucket, int project)
    {
        return bucket < demand.size() ? demand.get(bucket)[project] : 0;
    }

    /** GPU-seconds project p deserved in bucket b, as given to {@link #advance(double, double[], double[], double[])} (0 when never given). */
    public double deserved(int bucket, int project)
    {
        return bucket < deserved.size() ? deserved.get(bucket)[project] : 0;
    }

    public double clusterGpuSeconds()
    {
        return clusterGpuSeconds;
    }
}

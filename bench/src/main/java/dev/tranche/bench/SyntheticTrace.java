package dev.tranche.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;
import java.util.SplittableRandom;

/**
 * A synthetic multi-team training trace, drawn from distributions set a priori (round numbers of the
 * shape multi-tenant GPU clusters are known to have, fitted to no trace): most jobs take one GPU and a
 * few take many; run times are heavy-tailed; teams differ in size; submissions follow the day and
 * often come as sweeps of similar jobs at once. Same arguments, same trace.
 */
final class SyntheticTrace
{
    /** GPUs per job and how often: 80% one GPU, the rest 2 to 32. */
    private static final int[] SIZES = {1, 2, 4, 8, 16, 32};
    private static final double[] SIZE_WEIGHTS = {0.80, 0.05, 0.06, 0.06, 0.02, 0.01};
    /** Run time: log-normal, median 15 minutes, sigma 1.8 (mean about 75 minutes), 10 s to 14 days. */
    private static final double MEDIAN_SECONDS = 900;
    private static final double SIGMA = 1.8;
    private static final double MAX_SECONDS = 14 * 86_400;
    /** A submission is one job (60%) or a sweep of 2 or more like jobs (mean 5), all at one instant. */
    private static final double SWEEP_PROBABILITY = 0.4;
    private static final double MEAN_EXTRA_SWEEP_JOBS = 4;
    /** Submissions per hour swing +-50% over the day. */
    private static final double DAILY_SWING = 0.5;

    private record Job(int team, int gpus, long durationSeconds) {}

    private final List<Job> jobs = new ArrayList<>();
    private final List<Long> submissionSecond = new ArrayList<>();
    /** The index of each submission's first job; the last entry is the job count. */
    private final List<Integer> submissionStart = new ArrayList<>();
    private final int gpusPerNode;
    private final double spanSeconds;

    SyntheticTrace(int jobCount, int teams, int clusterGpus, int gpusPerNode, double load, long seed)
    {
        this(jobCount, teams, clusterGpus, gpusPerNode, load, seed, OptionalDouble.empty());
    }

    /**
     * @param sweepSpread empty: each job of a sweep draws its run time on its own, as a single job does;
     *         present: a sweep draws one run time and each of its jobs takes it times a log-normal
     *         factor of this sigma (0: all alike), as when one script runs with other hyperparameters
     */
    SyntheticTrace(int jobCount, int teams, int clusterGpus, int gpusPerNode, double load, long seed, OptionalDouble sweepSpread)
    {
        if (sweepSpread.isPresent() && !(sweepSpread.getAsDouble() >= 0)) {
            throw new IllegalArgumentException("sweepSpread must be at least 0: got " + sweepSpread.getAsDouble());
        }
        this.gpusPerNode = gpusPerNode;
        SplittableRandom random = new SplittableRandom(seed);
        double[] teamWeights = new double[teams];
        for (int t = 0; t < teams; t++) {
            teamWeights[t] = 1.0 / (t + 1);   // Zipf: the largest team submits twice the second's work
        }
        double gpuSeconds = 0;
        while (jobs.size() < jobCount) {
            submissionStart.add(jobs.size());
            int team = pick(random, teamWeights);
            int gpus = Math.min(SIZES[pick(random, SIZE_WEIGHTS)], clusterGpus);
            int count = 1;
            if (random.nextDouble() < SWEEP_PROBABILITY) {
                // geometric number of extra jobs, mean MEAN_EXTRA_SWEEP_JOBS
                count += 1 + (int) Math.floor(Math.log(1 - random.nextDouble()) / Math.log(1 - 1 / MEAN_EXTRA_SWEEP_JOBS));
            }
            // drawn only when sweeps share a run time, so that traces without it stay as they were
            double sweepSeconds = sweepSpread.isPresent() ? MEDIAN_SECONDS * Math.exp(SIGMA * gaussian(random)) : 0;
            for (int i = 0; i < count && jobs.size() < jobCount; i++) {
                double seconds = sweepSpread.isPresent()
                        ? sweepSeconds * Math.exp(sweepSpread.getAsDouble() * gaussian(random))
                        : MEDIAN_SECONDS * Math.exp(SIGMA * gaussian(random));
                long duration = (long) Math.max(10, Math.min(MAX_SECONDS, Math.round(seconds)));
                jobs.add(new Job(team, gpus, duration));
                gpuSeconds += (double) duration * gpus;
            }
        }
        submissionStart.add(jobs.size());
        // the span that makes the average demand `load` of the cluster; submissions arrive as a Poisson
        // process whose rate follows the day (thinning a process of the peak rate)
        int submissions = submissionStart.size() - 1;
        this.spanSeconds = gpuSeconds / (load * clusterGpus);
        double meanRate = submissions / spanSeconds;
        double peakRate = meanRate * (1 + DAILY_SWING);
        double t = 0;
        while (submissionSecond.size() < submissions) {
            t += -Math.log(1 - random.nextDouble()) / peakRate;
            double rate = meanRate * (1 + DAILY_SWING * Math.sin(2 * Math.PI * t / 86_400));
            if (random.nextDouble() * peakRate < rate) {
                submissionSecond.add((long) t);
            }
        }
    }

    double spanSeconds()
    {
        return spanSeconds;
    }

    /** The trace as `arrival,project,replicas,gpus,duration,priority` rows, in arrival order. */
    String csv()
    {
        StringBuilder out = new StringBuilder("arrival,project,replicas,gpus,duration,priority\n");
        for (int s = 0; s < submissionSecond.size(); s++) {
            for (int j = submissionStart.get(s); j < submissionStart.get(s + 1); j++) {
                Job job = jobs.get(j);
                // a job larger than a node is a gang of whole nodes' worth, as the Philly reader splits it
                int replicas = job.gpus() <= gpusPerNode ? 1 : (job.gpus() + gpusPerNode - 1) / gpusPerNode;
                int perReplica = replicas == 1 ? job.gpus() : gpusPerNode;
                out.append(submissionSecond.get(s)).append(",team-").append(String.format("%02d", job.team() + 1)).append(',')
                        .append(replicas).append(',').append(perReplica).append(',').append(job.durationSeconds()).append(",\n");
            }
        }
        return out.toString();
    }

    private static int pick(SplittableRandom random, double[] weights)
    {
        double total = 0;
        for (double weight : weights) {
            total += weight;
        }
        double point = random.nextDouble() * total;
        for (int i = 0; i < weights.length; i++) {
            point -= weights[i];
            if (point < 0) {
                return i;
            }
        }
        return weights.length - 1;
    }

    /** A standard normal draw (Box-Muller). */
    private static double gaussian(SplittableRandom random)
    {
        double u = 1 - random.nextDouble();
        double v = random.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }
}

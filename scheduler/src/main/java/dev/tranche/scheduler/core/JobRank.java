package dev.tranche.scheduler.core;

import dev.tranche.scheduler.core.model.ServiceHistory;

import java.util.Arrays;
import java.util.OptionalLong;

/**
 * A job-order plugin: ranks an experiment (pending or running) so that a lower rank goes first
 * among experiments of equal priority, before starving ones and arrival order (with no service
 * history every rank is 0, and the order is the one the server always had). Orderings that
 * preempt by rank let a pending experiment evict running work of a strictly higher rank.
 */
public interface JobRank
{
    String name();

    long rank(String experimentId, ServiceHistory history);

    /** Every experiment ranks the same: arrival order decides (the production order before ranks existed). */
    JobRank ARRIVAL = new JobRank()
    {
        @Override
        public String name()
        {
            return "arrival";
        }

        @Override
        public long rank(String experimentId, ServiceHistory history)
        {
            return 0;
        }
    };

    /** Shortest known run time first; unknown durations last. Needs durations: a replay's reference bound. */
    JobRank SHORTEST_EXPECTED = new JobRank()
    {
        @Override
        public String name()
        {
            return "shortest-expected";
        }

        @Override
        public long rank(String experimentId, ServiceHistory history)
        {
            OptionalLong expected = history.expectedSeconds(experimentId);
            return expected.isPresent() ? expected.getAsLong() : Long.MAX_VALUE;
        }
    };

    /**
     * Least attained GPU service first, discretised as Tiresias does (Gu et al., NSDI'19): the rank is
     * how many of the ascending thresholds (GPU-seconds) the experiment's attained service has
     * reached, so experiments in one band keep arrival order and two jobs of similar service do not
     * preempt each other back and forth.
     */
    static JobRank leastAttained(long... thresholdsGpuSeconds)
    {
        long[] thresholds = thresholdsGpuSeconds.clone();
        for (int i = 0; i < thresholds.length; i++) {
            if (thresholds[i] <= 0 || (i > 0 && thresholds[i] <= thresholds[i - 1])) {
                throw new IllegalArgumentException("attained-service thresholds must be positive and ascending, got " + Arrays.toString(thresholds));
            }
        }
        return new JobRank()
        {
            @Override
            public String name()
            {
                return "least-attained" + Arrays.toString(thresholds);
            }

            @Override
            public long rank(String experimentId, ServiceHistory history)
            {
                long attained = history.attainedGpuSeconds(experimentId);
                int band = 0;
                while (band < thresholds.length && attained >= thresholds[band]) {
                    band++;
                }
                return band;
            }
        };
    }
}

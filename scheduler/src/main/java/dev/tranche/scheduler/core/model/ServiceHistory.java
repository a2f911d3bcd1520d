package dev.tranche.scheduler.core.model;

import java.util.Map;
import java.util.OptionalLong;

import static java.util.Objects.requireNonNull;

/**
 * What the caller knows about experiments beyond the snapshot: the GPU service each has received so
 * far (over all its attempts) and, where known, how long it will run. Orderings read it (least
 * attained service first, shortest first); the default ordering ignores it. The core only reads it
 * during a cycle, so the caller must not change it while {@code SchedulingCycle.run} works; it is not
 * copied, because a replay hands the same large table to every cycle.
 */
public interface ServiceHistory
{
    ServiceHistory NONE = new ServiceHistory()
    {
        @Override
        public long attainedGpuSeconds(String experimentId)
        {
            return 0;
        }

        @Override
        public OptionalLong expectedSeconds(String experimentId)
        {
            return OptionalLong.empty();
        }
    };

    /** What a live cluster knows: the GPU-seconds each experiment has had (0 for one not named); run times are not known. */
    static ServiceHistory attained(Map<String, Long> attainedGpuSeconds)
    {
        requireNonNull(attainedGpuSeconds, "attainedGpuSeconds is null");
        return new ServiceHistory()
        {
            @Override
            public long attainedGpuSeconds(String experimentId)
            {
                return attainedGpuSeconds.getOrDefault(experimentId, 0L);
            }

            @Override
            public OptionalLong expectedSeconds(String experimentId)
            {
                return OptionalLong.empty();
            }
        };
    }

    /** GPU-seconds the experiment has held so far (a GPU for a second counts 1; 0 when never run). */
    long attainedGpuSeconds(String experimentId);

    /** How many seconds of run time the experiment needs in all, when known (a replay knows it; a live cluster does not). */
    OptionalLong expectedSeconds(String experimentId);
}

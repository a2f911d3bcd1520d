package dev.tranche.scheduler.outcome;

import static java.util.Objects.requireNonNull;

/**
 * One finished job: seconds on one clock (a replay's virtual time or epoch seconds), the GPUs it
 * held, how often it was preempted and the GPU-seconds preemption threw away (work since the last
 * checkpoint plus the restart delay).
 */
public record JobOutcome(String project, double arrival, double firstStart, double finish, double gpus, int preemptions, double lostGpuSeconds)
{
    public JobOutcome
    {
        requireNonNull(project, "project is null");
        if (!(firstStart >= arrival) || !(finish >= firstStart)) {
            throw new IllegalArgumentException("job of " + project + ": expected arrival <= first start <= finish, got " + arrival + ", " + firstStart + ", " + finish);
        }
    }

    public double waitSeconds()
    {
        return firstStart - arrival;
    }

    public double completionSeconds()
    {
        return finish - arrival;
    }
}

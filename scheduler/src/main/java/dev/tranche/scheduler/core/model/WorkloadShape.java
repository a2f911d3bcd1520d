package dev.tranche.scheduler.core.model;

import static java.util.Objects.requireNonNull;

/** One typical task shape of the workload and how popular it is (any positive weight, e.g. a count). */
public record WorkloadShape(ResourceRequest request, double weight)
{
    public WorkloadShape
    {
        requireNonNull(request, "request is null");
        if (!(weight > 0) || Double.isInfinite(weight)) {
            throw new IllegalArgumentException("workload shape weight must be > 0, got " + weight);
        }
    }
}

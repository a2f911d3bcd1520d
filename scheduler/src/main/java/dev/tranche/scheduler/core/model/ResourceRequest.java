package dev.tranche.scheduler.core.model;

import static java.util.Objects.requireNonNull;

/** What one replica of an experiment needs on one node. */
public record ResourceRequest(GpuRequest gpu, long cpuMilli, long memoryMib)
{
    public ResourceRequest
    {
        requireNonNull(gpu, "gpu is null");
        if (cpuMilli < 0) {
            throw new IllegalArgumentException("cpuMilli must not be negative, got " + cpuMilli);
        }
        if (memoryMib < 0) {
            throw new IllegalArgumentException("memoryMib must not be negative, got " + memoryMib);
        }
    }

    @Override
    public String toString()
    {
        return gpu + ", " + GpuRequest.formatGpus(cpuMilli) + " CPU, " + memoryMib + " MiB";
    }
}

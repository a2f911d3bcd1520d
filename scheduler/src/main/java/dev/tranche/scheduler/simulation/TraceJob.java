package dev.tranche.scheduler.simulation;

import dev.tranche.scheduler.core.model.GpuRequest;

import static java.util.Objects.requireNonNull;

/**
 * One job of a trace: it arrives {@code arrivalSecond} seconds after the trace starts, asks for
 * {@code replicas} replicas of {@code gpu} each, all at once, and needs {@code durationSeconds} of run
 * time once placed. {@code sequence} is its position in the file; ties in arrival keep it.
 */
public record TraceJob(String id, String project, long arrivalSecond, int replicas, GpuRequest gpu, double durationSeconds, int priority, int sequence)
{
    public TraceJob
    {
        requireNonNull(id, "id is null");
        requireNonNull(project, "project is null");
        requireNonNull(gpu, "gpu is null");
        if (replicas < 1) {
            throw new IllegalArgumentException("job " + id + ": replicas must be >= 1");
        }
        if (!(durationSeconds >= 0) || Double.isInfinite(durationSeconds)) {
            throw new IllegalArgumentException("job " + id + ": duration must be a finite number >= 0");
        }
        if (gpu.kind() == GpuRequest.Kind.MEMORY) {
            throw new IllegalArgumentException("job " + id + ": a replay needs GPUs as a count or a fraction");
        }
    }

    /** GPU milli the whole gang holds. */
    public long gpuMilli()
    {
        return gpu.totalMilli(0) * replicas;
    }
}

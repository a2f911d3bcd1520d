package dev.tranche.scheduler.core.placement;

import dev.tranche.scheduler.core.model.GpuRequest;
import dev.tranche.scheduler.core.model.ResourceRequest;

/**
 * The one list of fit checks, in the order of {@link FitFailure}: whether a node can take a replica,
 * which check refuses it when it cannot, and how many replicas it could take. "Why not now", "why
 * never" and the victim search's counts all read these over a {@link NodeRoom}, so they cannot
 * disagree about what fits.
 */
final class FitChecks
{
    private static final FitFailure[] FAILURES = FitFailure.values();

    private FitChecks() {}

    /** The first check the room fails for one replica of {@code request}, or null when it could take one. */
    static FitFailure firstFailure(NodeRoom room, ResourceRequest request)
    {
        int verdict = verdict(room, request);
        return verdict > 0 ? null : FAILURES[-verdict];
    }

    /**
     * How many replicas of {@code request} the room could take at once; exact, because replicas of one
     * request are alike and never share a GPU beyond its 1000 milli. {@link Integer#MAX_VALUE} when
     * nothing bounds it (a request for nothing).
     */
    static int replicas(NodeRoom room, ResourceRequest request)
    {
        return Math.max(0, verdict(room, request));
    }

    /**
     * Each check bounds how many replicas fit; the first bound of 0 is the failure. Returns the
     * smallest bound when it is at least 1, else minus the failure's ordinal: one pass serves both
     * questions without allocating, which matters to the victim search that asks per touched node.
     */
    private static int verdict(NodeRoom room, ResourceRequest request)
    {
        if (!room.schedulable()) {
            return -FitFailure.UNSCHEDULABLE.ordinal();
        }
        if (room.reserved()) {
            return -FitFailure.RESERVED.ordinal();
        }
        if (room.cpuFree() < request.cpuMilli()) {
            return -FitFailure.INSUFFICIENT_CPU.ordinal();
        }
        if (room.memoryFree() < request.memoryMib()) {
            return -FitFailure.INSUFFICIENT_MEMORY.ordinal();
        }
        long bound = Integer.MAX_VALUE;
        if (request.cpuMilli() > 0) {
            bound = Math.min(bound, room.cpuFree() / request.cpuMilli());
        }
        if (request.memoryMib() > 0) {
            bound = Math.min(bound, room.memoryFree() / request.memoryMib());
        }
        GpuRequest gpu = request.gpu();
        if (gpu.isNone()) {
            return (int) bound;
        }
        if (room.gpuCount() < gpu.count()) {
            return -FitFailure.TOO_FEW_GPUS.ordinal();
        }
        int allowedModel = 0;
        int bigEnough = 0;
        long slots = 0;
        for (int g = 0, gpus = room.gpuCount(); g < gpus; g++) {
            if (!gpu.allows(room.gpuModel(g))) {
                continue;
            }
            allowedModel++;
            int need = gpu.milliOn(room.gpuMemoryMib(g));
            if (need > GpuRequest.MILLI_PER_GPU) {
                continue;
            }
            bigEnough++;
            // a whole GPU needs all 1000 milli free: 1 slot or none
            slots += room.gpuFree(g) / need;
        }
        if (allowedModel < gpu.count()) {
            return -FitFailure.NO_ALLOWED_GPU.ordinal();
        }
        if (bigEnough < gpu.count()) {
            return -FitFailure.GPU_MEMORY_TOO_SMALL.ordinal();
        }
        // fractions and memory requests take one GPU each (count 1), whole requests count GPUs
        long byGpu = slots / gpu.count();
        if (byGpu == 0) {
            return -FitFailure.INSUFFICIENT_GPU.ordinal();
        }
        return (int) Math.min(bound, byGpu);
    }
}

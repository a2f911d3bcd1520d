package dev.tranche.bench;

import dev.tranche.scheduler.core.model.GpuRequest;
import dev.tranche.scheduler.core.model.ResourceRequest;

import java.util.Set;

import static java.util.Objects.requireNonNull;

/**
 * One task of an openb pod list. {@code numGpu == 1} with {@code gpuMilli < 1000} is a fraction of one
 * GPU; otherwise the task takes {@code numGpu} whole GPUs.
 */
public record TraceTask(String name, long cpuMilli, long memoryMib, int numGpu, int gpuMilli, Set<String> gpuModels)
{
    public TraceTask
    {
        requireNonNull(name, "name is null");
        gpuModels = Set.copyOf(requireNonNull(gpuModels, "gpuModels is null"));
        if (cpuMilli < 0 || memoryMib < 0) {
            throw new IllegalArgumentException("task " + name + " has negative CPU or memory");
        }
        if (numGpu < 0) {
            throw new IllegalArgumentException("task " + name + " has negative num_gpu " + numGpu);
        }
        if (numGpu > 0 && (gpuMilli < 1 || gpuMilli > GpuRequest.MILLI_PER_GPU)) {
            throw new IllegalArgumentException("task " + name + " asks " + gpuMilli + " gpu_milli; must be 1..1000 when num_gpu > 0");
        }
        if (numGpu > 1 && gpuMilli != GpuRequest.MILLI_PER_GPU) {
            throw new IllegalArgumentException("task " + name + " asks " + numGpu + " GPUs of " + gpuMilli + " milli each; a multi-GPU task takes whole GPUs");
        }
    }

    /** GPU milli this task counts for in the arrived workload. */
    public long requestedGpuMilli()
    {
        return numGpu == 0 ? 0 : (long) numGpu * gpuMilli;
    }

    public ResourceRequest toRequest()
    {
        GpuRequest gpu;
        if (numGpu == 0) {
            gpu = GpuRequest.none();
        }
        else if (numGpu == 1 && gpuMilli < GpuRequest.MILLI_PER_GPU) {
            gpu = GpuRequest.fraction(gpuMilli);
        }
        else {
            gpu = GpuRequest.whole(numGpu);
        }
        if (!gpuModels.isEmpty() && numGpu > 0) {
            gpu = gpu.onModels(gpuModels);
        }
        return new ResourceRequest(gpu, cpuMilli, memoryMib);
    }
}

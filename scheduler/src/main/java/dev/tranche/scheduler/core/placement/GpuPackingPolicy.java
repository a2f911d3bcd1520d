package dev.tranche.scheduler.core.placement;

import dev.tranche.scheduler.core.model.GpuRequest;
import dev.tranche.scheduler.core.model.WorkloadShape;

import java.util.List;

import static dev.tranche.scheduler.core.placement.PublishedSimulator.MAX_NODE_SCORE;

/**
 * The published simulator's GpuPacking baseline, in three bands from best to worst: a task that fits
 * on GPUs already in use scores {@code max(50, 100 - sum(free% of those GPUs) / 10)}; one that must
 * open fully free GPUs of a node in use {@code max(33, 50 - GPUs opened)}; a node whose GPUs are all
 * free {@code max(free GPUs, 33 - free GPUs)}. The GPUs it would use are the fitting ones with the
 * least free milli. A task without GPU scores 0 everywhere (a random fitting node).
 */
public final class GpuPackingPolicy
        implements PlacementPolicy
{
    public static final String NAME = "gpu-packing";

    @Override
    public String name()
    {
        return NAME;
    }

    @Override
    public Scorer open(ClusterState cluster, List<WorkloadShape> workload)
    {
        return PublishedSimulator.tiesByNodeName((shape, request, choice) -> {
            GpuRequest gpu = request.gpu();
            if (gpu.isNone()) {
                return 0;
            }
            int gpus = shape.gpuCount();
            int fullyFree = shape.fullyFreeGpus();
            if (fullyFree == gpus) {
                return Math.max(MAX_NODE_SCORE / 3 - fullyFree, fullyFree);
            }
            int wanted = gpu.kind() == GpuRequest.Kind.WHOLE ? gpu.count() : 1;
            int opened = 0;
            long freePercent = 0;
            // canonical order is free milli ascending within a GPU kind: the least free fitting GPUs first
            for (int g = 0; g < gpus && wanted > 0; g++) {
                if (!gpu.allows(shape.gpuModel(g))) {
                    continue;
                }
                int need = gpu.kind() == GpuRequest.Kind.WHOLE ? GpuRequest.MILLI_PER_GPU : gpu.milliOn(shape.gpuMemoryMib(g));
                int free = shape.gpuFree(g);
                if (need <= free) {
                    wanted--;
                    freePercent += free * 100L / GpuRequest.MILLI_PER_GPU;
                    if (free == GpuRequest.MILLI_PER_GPU) {
                        opened++;
                    }
                }
            }
            if (wanted > 0) {
                return Double.NaN;
            }
            if (opened > 0) {
                return Math.max(MAX_NODE_SCORE / 2 - opened, MAX_NODE_SCORE / 3);
            }
            return Math.max(MAX_NODE_SCORE - freePercent / 10, MAX_NODE_SCORE / 2);
        });
    }
}

package dev.tranche.scheduler.core.placement;

import dev.tranche.scheduler.core.model.Node;
import dev.tranche.scheduler.core.model.ResourceRequest;
import dev.tranche.scheduler.core.model.WorkloadShape;

import java.util.List;

/**
 * Packs: prefers the node that would have the least CPU and GPU left. Same formula as the simple
 * best-fit of the published GPU-sharing simulator, so our benchmark can be checked against its
 * figure: {@code left = 0.5 cpuFreeAfter / maxNodeCpu + 0.5 gpuFreeAfter / maxNodeGpuMilli},
 * score {@code floor((1 - left) * 100)}. The coarse integer score is deliberate: nodes within the
 * same percent tie and the tie is broken at random.
 */
public final class BestFitPolicy
        implements PlacementPolicy
{
    public static final String NAME = "best-fit";

    @Override
    public String name()
    {
        return NAME;
    }

    @Override
    public Scorer open(ClusterState cluster, List<WorkloadShape> workload)
    {
        long maxCpu = 1;
        long maxGpu = 1;
        for (Node node : cluster.nodes()) {
            maxCpu = Math.max(maxCpu, node.cpuMilli());
            maxGpu = Math.max(maxGpu, node.gpus().size() * 1000L);
        }
        double cpuScale = maxCpu;
        double gpuScale = maxGpu;
        return (shape, request, choice) -> {
            double cpuLeft = shape.cpuFree() - request.cpuMilli();
            double gpuLeft = shape.totalGpuFree() - choice.totalMilli();
            double left = 0.5 * cpuLeft / cpuScale + 0.5 * gpuLeft / gpuScale;
            return Math.floor((1 - left) * 100);
        };
    }
}

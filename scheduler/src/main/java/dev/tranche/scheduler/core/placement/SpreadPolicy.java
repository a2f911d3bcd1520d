package dev.tranche.scheduler.core.placement;

import dev.tranche.scheduler.core.model.WorkloadShape;

import java.util.List;

/** Spreads: prefers the node that stays emptiest (mean of free GPU and free CPU share after placing). */
public final class SpreadPolicy
        implements PlacementPolicy
{
    public static final String NAME = "spread";

    @Override
    public String name()
    {
        return NAME;
    }

    @Override
    public Scorer open(ClusterState cluster, List<WorkloadShape> workload)
    {
        return (shape, request, choice) -> {
            double gpuShare = shape.gpuCount() == 0 ? 1 : (shape.totalGpuFree() - choice.totalMilli()) / (shape.gpuCount() * 1000.0);
            double cpuShare = shape.cpuTotal() == 0 ? 1 : (shape.cpuFree() - request.cpuMilli()) / (double) shape.cpuTotal();
            // within a node, spread fractions over GPUs too: prefer the GPU with the most free milli
            double gpuTieBreak = choice.count() == 1 ? shape.gpuFree(choice.position(0)) / 1e6 : 0;
            return (gpuShare + cpuShare) / 2 + gpuTieBreak;
        };
    }
}

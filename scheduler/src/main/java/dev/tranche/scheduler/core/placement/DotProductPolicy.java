package dev.tranche.scheduler.core.placement;

import dev.tranche.scheduler.core.model.WorkloadShape;

import java.util.List;

import static dev.tranche.scheduler.core.placement.PublishedSimulator.MAX_NODE_SCORE;
import static dev.tranche.scheduler.core.placement.PublishedSimulator.MAX_SPEC_CPU;
import static dev.tranche.scheduler.core.placement.PublishedSimulator.MAX_SPEC_GPU;

/**
 * The published simulator's DotProd baseline (after Tetris), as its openb runs configure it: node and
 * task as two-dimensional vectors (CPU milli, GPU milli summed over the node's GPUs), both divided by
 * the simulator's largest node (128 CPUs, 8 GPUs); score {@code trunc(100 (1 - dot / 2))} on the free
 * resources before placing, so the node whose free resources align least with the task wins. A
 * fractional task takes the fitting GPU with the least free milli.
 */
public final class DotProductPolicy
        implements PlacementPolicy
{
    public static final String NAME = "dot-product";

    @Override
    public String name()
    {
        return NAME;
    }

    @Override
    public Scorer open(ClusterState cluster, List<WorkloadShape> workload)
    {
        return PublishedSimulator.tiesByNodeName((shape, request, choice) -> {
            double nodeCpu = shape.cpuFree() / MAX_SPEC_CPU;
            double nodeGpu = shape.totalGpuFree() / (double) MAX_SPEC_GPU;
            double taskCpu = request.cpuMilli() / MAX_SPEC_CPU;
            double taskGpu = choice.totalMilli() / (double) MAX_SPEC_GPU;
            double dot = (nodeCpu * taskCpu + nodeGpu * taskGpu) / 2;
            // the same integer score for every GPU of the node: the placer then takes the least free one
            return (long) (MAX_NODE_SCORE * (1 - dot));
        });
    }
}

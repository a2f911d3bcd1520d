package dev.tranche.scheduler.core.placement;

import dev.tranche.scheduler.core.model.WorkloadShape;

import java.util.List;

import static dev.tranche.scheduler.core.placement.PublishedSimulator.MAX_NODE_SCORE;
import static dev.tranche.scheduler.core.placement.PublishedSimulator.MAX_SPEC_GPU;

/**
 * The published simulator's GpuClustering baseline: keeps tasks of one kind (shared GPU, one whole
 * GPU, two, ...) together. A node running only the task's kind scores in (75, 100], one running that
 * kind among others in (50, 75], an idle node in (25, 50], a node running other kinds only in
 * [0, 25]; within a band the node with less free GPU wins ({@code 25 (8000 - free) / 8000}, integer).
 * A task without GPU scores 0 everywhere (a random fitting node). A fractional task takes the fitting
 * GPU with the least free milli.
 */
public final class GpuClusteringPolicy
        implements PlacementPolicy
{
    public static final String NAME = "gpu-clustering";

    @Override
    public String name()
    {
        return NAME;
    }

    @Override
    public boolean needsTaskKinds()
    {
        return true;
    }

    @Override
    public Scorer open(ClusterState cluster, List<WorkloadShape> workload)
    {
        return PublishedSimulator.tiesByNodeName((shape, request, choice) -> {
            int kind = ClusterState.taskKind(request);
            if (kind < 0) {
                return 0;
            }
            long quarter = MAX_NODE_SCORE / 4;
            long fill = quarter * (MAX_SPEC_GPU - shape.totalGpuFree()) / MAX_SPEC_GPU;
            int kinds = shape.taskKinds();
            int own = 1 << kind;
            if ((kinds & own) != 0) {
                return fill + (kinds == own ? 3 * quarter : 2 * quarter);
            }
            return fill + (kinds == 0 ? quarter : 0);
        });
    }
}

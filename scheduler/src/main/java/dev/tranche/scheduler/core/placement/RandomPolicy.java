package dev.tranche.scheduler.core.placement;

import dev.tranche.scheduler.core.model.ResourceRequest;
import dev.tranche.scheduler.core.model.WorkloadShape;

import java.util.List;

/**
 * Places on a node drawn uniformly among those that fit, and a fractional task on a GPU drawn
 * uniformly among the node's fitting GPUs: the published simulator's Random baseline. The draws use
 * the placer's seeded random, so a run is reproducible.
 */
public final class RandomPolicy
        implements PlacementPolicy
{
    public static final String NAME = "random";

    @Override
    public String name()
    {
        return NAME;
    }

    @Override
    public Scorer open(ClusterState cluster, List<WorkloadShape> workload)
    {
        return new Scorer()
        {
            @Override
            public double score(NodeShape shape, ResourceRequest request, GpuChoice choice)
            {
                // every fitting node ties; the placer draws among them weighted by node count
                return 0;
            }

            @Override
            public boolean picksGpuAtRandom()
            {
                return true;
            }
        };
    }
}

package dev.tranche.scheduler.core.placement;

import dev.tranche.scheduler.core.model.ResourceRequest;

/**
 * Fixed scales of the published GPU-sharing simulator (Weng et al., ATC'23,
 * hkust-adsl/kubernetes-scheduler-simulator) that its policies normalise by, and its score range.
 * The peer policies here use them as given so that their figures can be checked against the
 * published ones; they are not tuned.
 */
final class PublishedSimulator
{
    /** CPU milli of the largest node the simulator assumes. */
    static final double MAX_SPEC_CPU = 128_000;
    /** GPU milli of the largest node the simulator assumes (8 GPUs). */
    static final long MAX_SPEC_GPU = 8_000;
    /** Kubernetes' node score range is 0..100, integer. */
    static final long MAX_NODE_SCORE = 100;

    private PublishedSimulator() {}

    /**
     * The scorer, with ties between nodes going to the node whose name sorts first: the simulator's
     * scheduler does that "for reproducibility" instead of drawing at random, and with integer scores
     * ties are common (every node ties for a task a policy does not score), so it shapes the result.
     */
    static PlacementPolicy.Scorer tiesByNodeName(PlacementPolicy.Scorer scorer)
    {
        return new PlacementPolicy.Scorer()
        {
            @Override
            public double score(NodeShape shape, ResourceRequest request, GpuChoice choice)
            {
                return scorer.score(shape, request, choice);
            }

            @Override
            public boolean picksGpuAtRandom()
            {
                return scorer.picksGpuAtRandom();
            }

            @Override
            public boolean breaksTiesByNodeName()
            {
                return true;
            }
        };
    }
}

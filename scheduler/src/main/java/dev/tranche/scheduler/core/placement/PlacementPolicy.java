package dev.tranche.scheduler.core.placement;

import dev.tranche.scheduler.core.model.ResourceRequest;
import dev.tranche.scheduler.core.model.WorkloadShape;

import java.util.List;

/**
 * Says how good a candidate placement is: one replica of a request on a node of a given shape, using
 * a given choice of GPUs. The core enumerates the candidates that pass the fit predicates and takes
 * the highest score; equal scores across nodes are broken by the seeded random, equal scores within a
 * node by the canonical GPU order (least free milli first).
 */
public interface PlacementPolicy
{
    String name();

    /**
     * Prepares a scorer for one cycle or one benchmark run. {@code workload} lists the task shapes
     * to expect with their popularity; policies that do not need it ignore it.
     */
    Scorer open(ClusterState cluster, List<WorkloadShape> workload);

    /**
     * Whether the policy looks at {@link NodeShape#taskKinds()}: the cluster state must then track the
     * kinds of task on each node, which splits shapes further and costs a little.
     */
    default boolean needsTaskKinds()
    {
        return false;
    }

    interface Scorer
    {
        /**
         * Higher is better. Must be a pure function of its arguments (the core caches it per node
         * shape and request), and never NaN for a candidate that fits.
         */
        double score(NodeShape shape, ResourceRequest request, GpuChoice choice);

        /**
         * When true, a replica that takes part of one GPU goes to a GPU drawn with the placer's seeded
         * random among those that fit on the chosen node, instead of the best-scored one.
         */
        default boolean picksGpuAtRandom()
        {
            return false;
        }

        /**
         * When true, equal scores across nodes go to the node whose name sorts first instead of one
         * drawn at random: how the published simulator's scheduler breaks them.
         */
        default boolean breaksTiesByNodeName()
        {
            return false;
        }
    }
}

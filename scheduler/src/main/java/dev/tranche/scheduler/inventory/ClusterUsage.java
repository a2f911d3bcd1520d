package dev.tranche.scheduler.inventory;

import dev.tranche.proto.v1.ExperimentSpec;

import java.util.List;
import java.util.Map;

/** What is in use on the cluster, as admins see it; the store package implements it. */
public interface ClusterUsage
{
    /** Every node with what is in use on it. */
    List<NodeUsage> nodes();

    /** GPU milli held by each project's placed experiments. */
    Map<String, Long> usedMilliByProject();

    /** The specs of every PENDING experiment. */
    List<ExperimentSpec> pendingSpecs();
}

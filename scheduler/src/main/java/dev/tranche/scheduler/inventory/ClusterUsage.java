package dev.tranche.scheduler.inventory;

import java.util.List;
import java.util.Map;

/** What is in use on the cluster, as admins see it; the store package implements it. */
public interface ClusterUsage
{
    /** Every node with what is in use on it. */
    List<NodeUsage> nodes();

    /** GPU milli held by each project's placed experiments. */
    Map<String, Long> usedMilliByProject();

    /**
     * GPU milli asked for by each project's PENDING experiments (whole gangs; requests by GPU memory
     * count 0, their size depends on the GPU they land on).
     */
    Map<String, Long> pendingMilliByProject();
}

package dev.tranche.scheduler.inventory;

import dev.tranche.scheduler.core.model.Node;

import java.util.List;
import java.util.Map;

import static java.util.Objects.requireNonNull;

/**
 * A node as stored, with what is in use on it, and the device each reserved GPU was given by the
 * device plugin (Kubernetes; empty elsewhere).
 */
public record NodeUsage(Node node, long usedCpuMilli, long usedMemoryMib, Map<Integer, Integer> usedMilliByGpu, List<GpuHolder> holders,
        Map<Integer, String> deviceIds)
{
    public NodeUsage
    {
        requireNonNull(node, "node is null");
        usedMilliByGpu = Map.copyOf(usedMilliByGpu);
        holders = List.copyOf(holders);
        deviceIds = Map.copyOf(deviceIds);
    }
}

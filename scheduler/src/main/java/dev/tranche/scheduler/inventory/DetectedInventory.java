package dev.tranche.scheduler.inventory;

import dev.tranche.scheduler.core.model.Node;

import java.lang.management.ManagementFactory;
import java.util.List;

/** This machine as the one node, with the GPUs nvidia-smi reports and the CPU and memory the JVM sees. */
public record DetectedInventory(String nodeName)
        implements Inventory
{
    @Override
    public List<Node> nodes()
    {
        var gpus = NvidiaSmiInventory.detect();
        if (gpus.isEmpty()) {
            throw new IllegalStateException("--detect-gpus found no GPU: nvidia-smi is missing or lists none; declare an inventory with --local-nodes instead");
        }
        long memoryMib = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getTotalMemorySize() / (1024 * 1024);
        return List.of(NvidiaSmiInventory.thisMachine(nodeName, gpus, Runtime.getRuntime().availableProcessors() * 1000L, memoryMib));
    }
}

package dev.tranche.scheduler.inventory;

import dev.tranche.scheduler.core.model.Node;

import java.util.ArrayList;
import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * Nodes and GPUs declared on the command line ({@code --local-nodes 2 --gpus-per-node 4 --gpu-memory 24GiB}):
 * the inventory of a laptop demo or a test, named local-1, local-2, ...
 */
public record DeclaredInventory(int nodes, int gpusPerNode, long gpuMemoryMib, String gpuModel, long cpuMilliPerNode, long memoryMibPerNode)
{
    public static final int MAX_NODES = 10_000;
    public static final int MAX_GPUS_PER_NODE = 64;

    public DeclaredInventory
    {
        requireNonNull(gpuModel, "gpuModel is null");
        if (nodes < 1 || nodes > MAX_NODES) {
            throw new IllegalArgumentException("--local-nodes must be in [1, " + MAX_NODES + "]: got " + nodes);
        }
        if (gpusPerNode < 0 || gpusPerNode > MAX_GPUS_PER_NODE) {
            throw new IllegalArgumentException("--gpus-per-node must be in [0, " + MAX_GPUS_PER_NODE + "]: got " + gpusPerNode);
        }
        if (gpuMemoryMib < 1 || gpuMemoryMib > 4L * 1024 * 1024) {
            throw new IllegalArgumentException("--gpu-memory must be between 1MiB and 4TiB: got " + gpuMemoryMib + " MiB");
        }
        if (!gpuModel.matches("[A-Za-z0-9][-A-Za-z0-9_. ]{0,62}")) {
            throw new IllegalArgumentException("--gpu-model must be 1 to 63 letters, digits, '-', '_', '.' or spaces: got \"" + gpuModel + "\"");
        }
        if (cpuMilliPerNode < 1000 || memoryMibPerNode < 1024) {
            throw new IllegalArgumentException("--node-cpu must be at least 1 core and --node-memory at least 1GiB");
        }
    }

    public static DeclaredInventory of(int nodes, int gpusPerNode, long gpuMemoryMib)
    {
        return new DeclaredInventory(nodes, gpusPerNode, gpuMemoryMib, "SIM-" + gpuMemoryMib / 1024 + "G", 32_000, 128 * 1024);
    }

    public List<Node> toNodes()
    {
        List<Node> declared = new ArrayList<>();
        for (int i = 1; i <= nodes; i++) {
            declared.add(Node.of("local-" + i, cpuMilliPerNode, memoryMibPerNode, gpusPerNode, gpuModel, gpuMemoryMib));
        }
        return declared;
    }
}

package dev.tranche.scheduler.core.placement;

import dev.tranche.scheduler.core.model.GpuRequest;
import dev.tranche.scheduler.core.model.Node;

import java.util.Arrays;

/**
 * What the fit checks read of a node: the room it has now (a {@link NodeShape}'s), all of it as if
 * it were empty ({@link #empty}), or the room it would have after evictions (the victim search's
 * scratch copies). One set of checks ({@link FitChecks}) reads each, so "why not now", "why never"
 * and the victim search's counts cannot disagree about what a check means.
 *
 * <p>A view: it shares the arrays it is given and copies nothing. One final class rather than an
 * interface, so the checks stay cheap where the victim search asks them per touched node.
 */
final class NodeRoom
{
    private final boolean schedulable;
    /** Held for a starving gang this cycle: takes nothing else, though schedulable. */
    private final boolean reserved;
    private final long cpuFree;
    private final long memoryFree;
    private final int[] gpuFree;
    private final String[] gpuModel;
    private final long[] gpuMemoryMib;

    /** GPU arrays in one order, the same for all three. */
    NodeRoom(boolean schedulable, boolean reserved, long cpuFree, long memoryFree, int[] gpuFree, String[] gpuModel, long[] gpuMemoryMib)
    {
        this.schedulable = schedulable;
        this.reserved = reserved;
        this.cpuFree = cpuFree;
        this.memoryFree = memoryFree;
        this.gpuFree = gpuFree;
        this.gpuModel = gpuModel;
        this.gpuMemoryMib = gpuMemoryMib;
    }

    /** The node with nothing on it, cordoned or not: what it could ever take. */
    static NodeRoom empty(Node node)
    {
        int gpus = node.gpus().size();
        int[] free = new int[gpus];
        Arrays.fill(free, GpuRequest.MILLI_PER_GPU);
        String[] models = new String[gpus];
        long[] memories = new long[gpus];
        for (int g = 0; g < gpus; g++) {
            models[g] = node.gpus().get(g).model();
            memories[g] = node.gpus().get(g).memoryMib();
        }
        return new NodeRoom(true, false, node.cpuMilli(), node.memoryMib(), free, models, memories);
    }

    boolean schedulable()
    {
        return schedulable;
    }

    boolean reserved()
    {
        return reserved;
    }

    long cpuFree()
    {
        return cpuFree;
    }

    long memoryFree()
    {
        return memoryFree;
    }

    int gpuCount()
    {
        return gpuFree.length;
    }

    int gpuFree(int position)
    {
        return gpuFree[position];
    }

    String gpuModel(int position)
    {
        return gpuModel[position];
    }

    long gpuMemoryMib(int position)
    {
        return gpuMemoryMib[position];
    }
}

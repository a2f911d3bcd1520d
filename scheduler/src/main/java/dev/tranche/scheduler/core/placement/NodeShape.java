package dev.tranche.scheduler.core.placement;

import java.util.Arrays;

/**
 * All nodes that are, right now, in the same state: same hardware, same free CPU and memory, and the
 * same free milli on GPUs of the same kind. Policies score a shape once instead of every node, which
 * is what keeps a decision cheap on a large cluster where many nodes look alike (all empty, all full).
 * GPUs are listed in canonical order: by GPU kind, then free milli ascending.
 */
public final class NodeShape
{
    private final ShapeKey key;
    private final boolean schedulable;
    private final long cpuTotal;
    private final long memoryTotal;
    private final String[] gpuModel;
    private final long[] gpuMemoryMib;
    private final int[] gpuFree;
    private final int maxFree;
    private final int fullyFree;
    private final long totalFree;
    /** What the fit checks read of this shape's nodes. */
    private final NodeRoom room;

    // nodes currently in this shape; order changes by swap-remove, which stays deterministic
    private int[] members = new int[4];
    private int size;
    int liveIndex = -1;

    // per-request best choice, owned by the one Placer of the ClusterState
    private double[] cachedScore = new double[0];
    private GpuChoice[] cachedChoice = new GpuChoice[0];
    private boolean[] cached = new boolean[0];
    /** A slot a scorer may use to remember one number about this shape (e.g. its fragmentation). */
    double scorerMemo = Double.NaN;

    NodeShape(ShapeKey key, boolean schedulable, long cpuTotal, long memoryTotal, String[] gpuModel, long[] gpuMemoryMib, int[] gpuFree)
    {
        this.key = key;
        this.schedulable = schedulable;
        this.cpuTotal = cpuTotal;
        this.memoryTotal = memoryTotal;
        this.gpuModel = gpuModel;
        this.gpuMemoryMib = gpuMemoryMib;
        this.gpuFree = gpuFree;
        int max = 0;
        int full = 0;
        long total = 0;
        for (int free : gpuFree) {
            max = Math.max(max, free);
            total += free;
            if (free == 1000) {
                full++;
            }
        }
        this.maxFree = max;
        this.fullyFree = full;
        this.totalFree = total;
        this.room = new NodeRoom(schedulable, key.reserved(), key.cpuFree(), key.memoryFree(), gpuFree, gpuModel, gpuMemoryMib);
    }

    /** A copy with the same members in the same order and empty caches. */
    NodeShape(NodeShape other)
    {
        this.key = other.key;
        this.schedulable = other.schedulable;
        this.cpuTotal = other.cpuTotal;
        this.memoryTotal = other.memoryTotal;
        this.gpuModel = other.gpuModel;
        this.gpuMemoryMib = other.gpuMemoryMib;
        this.gpuFree = other.gpuFree;
        this.maxFree = other.maxFree;
        this.fullyFree = other.fullyFree;
        this.totalFree = other.totalFree;
        this.room = other.room;
        this.members = Arrays.copyOf(other.members, Math.max(4, other.size));
        this.size = other.size;
    }

    NodeRoom room()
    {
        return room;
    }

    ShapeKey key()
    {
        return key;
    }

    /** Whether placements may go to this shape's nodes: schedulable and not held for a starving gang. */
    public boolean schedulable()
    {
        return schedulable && !key.reserved();
    }

    public long cpuFree()
    {
        return key.cpuFree();
    }

    public long memoryFree()
    {
        return key.memoryFree();
    }

    public long cpuTotal()
    {
        return cpuTotal;
    }

    public long memoryTotal()
    {
        return memoryTotal;
    }

    public int gpuCount()
    {
        return gpuFree.length;
    }

    public int gpuFree(int position)
    {
        return gpuFree[position];
    }

    public String gpuModel(int position)
    {
        return gpuModel[position];
    }

    public long gpuMemoryMib(int position)
    {
        return gpuMemoryMib[position];
    }

    public int maxGpuFree()
    {
        return maxFree;
    }

    public int fullyFreeGpus()
    {
        return fullyFree;
    }

    public long totalGpuFree()
    {
        return totalFree;
    }

    /**
     * Which task kinds run on the nodes of this shape, one bit per kind (bit 0 a shared GPU, bit k
     * k whole GPUs, bit 9 other); 0 when the cluster state does not track them.
     */
    public int taskKinds()
    {
        return key.taskKinds();
    }

    /** How many nodes are in this shape now. */
    public int size()
    {
        return size;
    }

    public int member(int i)
    {
        return members[i];
    }

    int add(int node)
    {
        if (size == members.length) {
            members = Arrays.copyOf(members, size * 2);
        }
        members[size] = node;
        return size++;
    }

    /** Removes the member at {@code index}; returns the node moved into that slot, or -1. */
    int removeAt(int index)
    {
        size--;
        if (index == size) {
            return -1;
        }
        members[index] = members[size];
        return members[index];
    }

    boolean isCached(int demand)
    {
        return demand < cached.length && cached[demand];
    }

    double cachedScore(int demand)
    {
        return cachedScore[demand];
    }

    GpuChoice cachedChoice(int demand)
    {
        return cachedChoice[demand];
    }

    void cache(int demand, double score, GpuChoice choice)
    {
        if (demand >= cached.length) {
            int length = Math.max(demand + 1, cached.length * 2);
            cached = Arrays.copyOf(cached, length);
            cachedScore = Arrays.copyOf(cachedScore, length);
            cachedChoice = Arrays.copyOf(cachedChoice, length);
        }
        cached[demand] = true;
        cachedScore[demand] = score;
        cachedChoice[demand] = choice;
    }

    @Override
    public String toString()
    {
        return "NodeShape{cpuFree=" + cpuFree() + ", memFree=" + memoryFree() + ", gpuFree=" + Arrays.toString(gpuFree) + ", nodes=" + size + "}";
    }

    /** Identity of a shape: hardware type, free CPU and memory, and canonical (GPU kind, free milli) pairs. */
    record ShapeKey(int hardware, boolean schedulable, boolean reserved, long cpuFree, long memoryFree, long[] gpus, int taskKinds)
    {
        /** The same key over other GPU values: a lookup key over a reused array becomes one kept in the index. */
        ShapeKey withGpus(long[] gpus)
        {
            return new ShapeKey(hardware, schedulable, reserved, cpuFree, memoryFree, gpus, taskKinds);
        }

        @Override
        public boolean equals(Object o)
        {
            return o instanceof ShapeKey other
                    && hardware == other.hardware
                    && schedulable == other.schedulable
                    && reserved == other.reserved
                    && cpuFree == other.cpuFree
                    && memoryFree == other.memoryFree
                    && taskKinds == other.taskKinds
                    && Arrays.equals(gpus, other.gpus);
        }

        @Override
        public int hashCode()
        {
            int hash = hardware;
            hash = 31 * hash + Long.hashCode(cpuFree);
            hash = 31 * hash + Long.hashCode(memoryFree);
            hash = 31 * hash + Arrays.hashCode(gpus);
            hash = 31 * hash + taskKinds;
            hash = 31 * hash + (reserved ? 1 : 0);
            return schedulable ? hash : ~hash;
        }
    }
}

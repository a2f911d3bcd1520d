package dev.tranche.scheduler.core.model;

import java.util.Map;

import static java.util.Objects.requireNonNull;

/** Where one replica runs: its node, the milli-GPU it holds on each GPU index, and its CPU and memory. */
public record ReplicaPlacement(String node, Map<Integer, Integer> gpuMilli, long cpuMilli, long memoryMib)
{
    public ReplicaPlacement
    {
        requireNonNull(node, "node is null");
        requireNonNull(gpuMilli, "gpuMilli is null");
        GpuMilliMap sorted = GpuMilliMap.copyOf(gpuMilli);
        for (int i = 0; i < sorted.count(); i++) {
            int milli = sorted.milliAt(i);
            if (milli < 1 || milli > GpuRequest.MILLI_PER_GPU) {
                throw new IllegalArgumentException("replica on " + node + " holds " + milli + " milli of GPU " + sorted.indexAt(i) + "; must be 1..1000");
            }
        }
        gpuMilli = sorted;
        if (cpuMilli < 0 || memoryMib < 0) {
            throw new IllegalArgumentException("replica on " + node + " has negative CPU or memory");
        }
    }

    /**
     * The replica holding {@code milli[i]} of GPU {@code gpuIndexes[i]}: as the constructor, without a
     * map to copy (a cycle makes one per replica it places). GPU indexes must differ.
     */
    public static ReplicaPlacement of(String node, int[] gpuIndexes, int[] milli, long cpuMilli, long memoryMib)
    {
        return new ReplicaPlacement(node, GpuMilliMap.of(gpuIndexes, milli), cpuMilli, memoryMib);
    }

    public long totalGpuMilli()
    {
        return shares().total();
    }

    /** How many GPUs the replica holds a share of. With {@link #gpuIndex} and {@link #gpuMilliAt}: the map's entries, read without making any. */
    public int gpuCount()
    {
        return shares().count();
    }

    /** The GPU index of the {@code i}-th share, by ascending index. */
    public int gpuIndex(int i)
    {
        return shares().indexAt(i);
    }

    /** The milli-GPU of the {@code i}-th share, by ascending index. */
    public int gpuMilliAt(int i)
    {
        return shares().milliAt(i);
    }

    // the constructor always makes one
    private GpuMilliMap shares()
    {
        return (GpuMilliMap) gpuMilli;
    }
}

package dev.tranche.scheduler.backend;

import java.util.Map;
import java.util.TreeMap;

import static java.util.Objects.requireNonNull;

/** One replica of a placed gang: its rank, node, the milli-GPUs it holds on each GPU, CPU and memory. */
public record ReplicaLaunch(int rank, String node, Map<Integer, Integer> gpuMilli, long cpuMilli, long memoryMib, long gpuMemoryMib)
{
    public ReplicaLaunch
    {
        requireNonNull(node, "node is null");
        gpuMilli = Map.copyOf(requireNonNull(gpuMilli, "gpuMilli is null"));
        if (rank < 0) {
            throw new IllegalArgumentException("rank must not be negative: got " + rank);
        }
    }

    /** "0,3": the GPU indices in order, as the worker's TRANCHE_GPU_IDS. */
    public String gpuIds()
    {
        return String.join(",", new TreeMap<>(gpuMilli).keySet().stream().map(String::valueOf).toList());
    }

    /** The share of one GPU for a fractional replica, 1 for whole GPUs, 0 without a GPU. */
    public double gpuFraction()
    {
        if (gpuMilli.isEmpty()) {
            return 0;
        }
        return gpuMilli.size() == 1 ? gpuMilli.values().iterator().next() / 1000.0 : 1;
    }

    public boolean wholeGpus()
    {
        return !gpuMilli.isEmpty() && gpuMilli.values().stream().allMatch(milli -> milli == 1000);
    }
}

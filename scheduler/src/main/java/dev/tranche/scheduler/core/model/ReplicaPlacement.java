package dev.tranche.scheduler.core.model;

import java.util.Map;
import java.util.TreeMap;

import static java.util.Objects.requireNonNull;

/** Where one replica runs: its node, the milli-GPU it holds on each GPU index, and its CPU and memory. */
public record ReplicaPlacement(String node, Map<Integer, Integer> gpuMilli, long cpuMilli, long memoryMib)
{
    public ReplicaPlacement
    {
        requireNonNull(node, "node is null");
        requireNonNull(gpuMilli, "gpuMilli is null");
        TreeMap<Integer, Integer> sorted = new TreeMap<>(gpuMilli);
        sorted.forEach((index, milli) -> {
            if (milli < 1 || milli > GpuRequest.MILLI_PER_GPU) {
                throw new IllegalArgumentException("replica on " + node + " holds " + milli + " milli of GPU " + index + "; must be 1..1000");
            }
        });
        gpuMilli = java.util.Collections.unmodifiableMap(sorted);
        if (cpuMilli < 0 || memoryMib < 0) {
            throw new IllegalArgumentException("replica on " + node + " has negative CPU or memory");
        }
    }

    public long totalGpuMilli()
    {
        long total = 0;
        for (int milli : gpuMilli.values()) {
            total += milli;
        }
        return total;
    }
}

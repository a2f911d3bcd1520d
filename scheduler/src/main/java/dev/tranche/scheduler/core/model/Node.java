package dev.tranche.scheduler.core.model;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/** A machine the scheduler may place replicas on, with its total capacity. */
public record Node(String name, long cpuMilli, long memoryMib, List<Gpu> gpus, boolean schedulable)
{
    /** The placement state packs a GPU's position on its node in 16 bits. */
    public static final int MAX_GPUS = 65_536;

    public Node
    {
        requireNonNull(name, "name is null");
        gpus = List.copyOf(requireNonNull(gpus, "gpus is null"));
        if (name.isBlank()) {
            throw new IllegalArgumentException("node name is blank");
        }
        if (cpuMilli < 0 || memoryMib < 0) {
            throw new IllegalArgumentException("node " + name + " has negative CPU or memory");
        }
        if (gpus.size() > MAX_GPUS) {
            throw new IllegalArgumentException("node " + name + " has " + gpus.size() + " GPUs; at most " + MAX_GPUS + " are supported");
        }
        Set<Integer> indexes = new HashSet<>();
        for (Gpu gpu : gpus) {
            if (!indexes.add(gpu.index())) {
                throw new IllegalArgumentException("node " + name + " has GPU index " + gpu.index() + " twice");
            }
        }
    }

    /** A node with {@code gpuCount} identical GPUs indexed 0..gpuCount-1. */
    public static Node of(String name, long cpuMilli, long memoryMib, int gpuCount, String model, long gpuMemoryMib)
    {
        Gpu[] gpus = new Gpu[gpuCount];
        for (int i = 0; i < gpuCount; i++) {
            gpus[i] = new Gpu(i, model, gpuMemoryMib);
        }
        return new Node(name, cpuMilli, memoryMib, List.of(gpus), true);
    }
}

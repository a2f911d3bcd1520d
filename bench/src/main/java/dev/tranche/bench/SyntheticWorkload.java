package dev.tranche.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

import static java.util.Objects.requireNonNull;

/**
 * Pod lists drawn from a trace's shape distribution, for choosing a policy's constants on other
 * workloads than the one they are scored on. Each synthetic task draws its GPU demand (none, a
 * fraction of a given milli, or k whole GPUs, with the GPU models asked) from the trace's frequency of
 * demands, and then its CPU and its memory independently from the values the trace's tasks of that
 * GPU demand ask. So the marginals per GPU demand stay those of the trace while the pairings of CPU,
 * memory and GPU are new: no synthetic list repeats the scored one.
 */
final class SyntheticWorkload
{
    private SyntheticWorkload() {}

    private record Demand(int numGpu, int gpuMilli, Set<String> models) {}

    static List<TraceTask> from(List<TraceTask> trace, int size, long seed)
    {
        requireNonNull(trace, "trace is null");
        if (trace.isEmpty() || size < 1) {
            throw new IllegalArgumentException("need a non-empty trace and a positive size");
        }
        Map<Demand, List<TraceTask>> byDemand = new LinkedHashMap<>();
        for (TraceTask task : trace) {
            byDemand.computeIfAbsent(new Demand(task.numGpu(), task.gpuMilli(), task.gpuModels()), ignored -> new ArrayList<>()).add(task);
        }
        SplittableRandom random = new SplittableRandom(seed);
        List<TraceTask> tasks = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            // a trace task drawn uniformly gives its GPU demand with the trace's frequency
            TraceTask anchor = trace.get(random.nextInt(trace.size()));
            List<TraceTask> same = byDemand.get(new Demand(anchor.numGpu(), anchor.gpuMilli(), anchor.gpuModels()));
            long cpu = same.get(random.nextInt(same.size())).cpuMilli();
            long memory = same.get(random.nextInt(same.size())).memoryMib();
            tasks.add(new TraceTask(String.format("synthetic-%d-%05d", seed, i), cpu, memory, anchor.numGpu(), anchor.gpuMilli(), anchor.gpuModels()));
        }
        return tasks;
    }
}

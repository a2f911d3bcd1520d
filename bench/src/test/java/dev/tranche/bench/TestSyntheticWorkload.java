package dev.tranche.bench;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class TestSyntheticWorkload
{
    @Test
    void keepsTheGpuDemandsAndTheirCpuValuesButPairsThemAnew()
    {
        List<TraceTask> trace = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            trace.add(new TraceTask("f" + i, 1_000 * (1 + i % 3), 1_024 * (1 + i % 3), 1, 500, Set.of()));
            trace.add(new TraceTask("w" + i, 8_000 * (1 + i % 3), 4_096, 2, 1000, Set.of("T4")));
            trace.add(new TraceTask("c" + i, 2_000, 2_048, 0, 0, Set.of()));
        }
        List<TraceTask> synthetic = SyntheticWorkload.from(trace, 3_000, 7);

        assertThat(synthetic).hasSize(3_000);
        assertThat(SyntheticWorkload.from(trace, 3_000, 7)).isEqualTo(synthetic);
        assertThat(SyntheticWorkload.from(trace, 3_000, 8)).isNotEqualTo(synthetic);
        long fractions = synthetic.stream().filter(task -> task.numGpu() == 1).count();
        assertThat(fractions).isBetween(850L, 1_150L);
        // a whole-GPU task keeps its model list and only the CPU values whole-GPU tasks ask
        assertThat(synthetic.stream().filter(task -> task.numGpu() == 2))
                .allSatisfy(task -> {
                    assertThat(task.gpuModels()).containsExactly("T4");
                    assertThat(task.cpuMilli()).isIn(8_000L, 16_000L, 24_000L);
                });
        // CPU and memory are drawn apart: pairs the trace never had appear
        Set<List<Long>> tracePairs = new java.util.HashSet<>();
        trace.forEach(task -> tracePairs.add(List.of(task.cpuMilli(), task.memoryMib())));
        assertThat(synthetic.stream().filter(task -> !tracePairs.contains(List.of(task.cpuMilli(), task.memoryMib())))).isNotEmpty();
    }
}

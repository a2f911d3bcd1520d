package dev.tranche.worker.env;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class WorkerEnvironmentTest
{
    @Test
    void standaloneIsOneCpuReplica()
    {
        WorkerEnvironment env = WorkerEnvironment.standalone();
        assertThat(env.rank()).isZero();
        assertThat(env.worldSize()).isEqualTo(1);
        assertThat(env.gpuIds()).isEmpty();
        assertThat(env.deviceLine()).isEqualTo("device: CPU (nd4j-native); no GPU is assigned to this replica");
    }

    @Test
    void fullMapping()
    {
        WorkerEnvironment env = WorkerEnvironment.of(Map.ofEntries(
                Map.entry("TRANCHE_EXPERIMENT_ID", "exp-7k2m9q4xz1"),
                Map.entry("TRANCHE_RANK", "1"),
                Map.entry("TRANCHE_WORLD_SIZE", "3"),
                Map.entry("TRANCHE_MASTER_ADDRESS", "10.0.0.5:7077"),
                Map.entry("TRANCHE_PEERS", "10.0.0.5, 10.0.0.6,10.0.0.7"),
                Map.entry("TRANCHE_GPU_IDS", "2,3"),
                Map.entry("TRANCHE_GPU_FRACTION", "0.5"),
                Map.entry("TRANCHE_SCHEDULER_ADDRESS", "scheduler:50051"),
                Map.entry("TRANCHE_CREDENTIAL", "s3cret"),
                Map.entry("TRANCHE_CHECKPOINT_DIR", "/ckpt/exp-7k2m9q4xz1")));
        assertThat(env.experimentId()).contains("exp-7k2m9q4xz1");
        assertThat(env.rank()).isEqualTo(1);
        assertThat(env.worldSize()).isEqualTo(3);
        assertThat(env.masterAddress()).contains("10.0.0.5:7077");
        assertThat(env.peers()).containsExactly("10.0.0.5", "10.0.0.6", "10.0.0.7");
        assertThat(env.gpuIds()).isEqualTo(List.of(2, 3));
        assertThat(env.gpuFraction()).hasValue(0.5);
        assertThat(env.gpuMemoryMib()).isEmpty();
        assertThat(env.schedulerAddress()).contains("scheduler:50051");
        assertThat(env.credential()).contains("s3cret");
        assertThat(env.checkpointDir()).contains(Path.of("/ckpt/exp-7k2m9q4xz1"));
        assertThat(env.cudaVisibleDevices()).isEqualTo("2,3");
        assertThat(env.deviceLine()).contains("GPUs 2,3, fraction 0.500").contains("no CUDA backend");
    }

    @Test
    void badValuesNameTheVariable()
    {
        assertThatThrownBy(() -> WorkerEnvironment.of(Map.of("TRANCHE_RANK", "two")))
                .hasMessage("TRANCHE_RANK must be an integer: got 'two'");
        assertThatThrownBy(() -> WorkerEnvironment.of(Map.of("TRANCHE_RANK", "2", "TRANCHE_WORLD_SIZE", "2", "TRANCHE_MASTER_ADDRESS", "h:1")))
                .hasMessageContaining("TRANCHE_RANK must be in [0, TRANCHE_WORLD_SIZE)");
        assertThatThrownBy(() -> WorkerEnvironment.of(Map.of("TRANCHE_WORLD_SIZE", "2")))
                .hasMessageContaining("TRANCHE_MASTER_ADDRESS is required");
        assertThatThrownBy(() -> WorkerEnvironment.of(Map.of("TRANCHE_GPU_FRACTION", "1.5")))
                .hasMessageContaining("TRANCHE_GPU_FRACTION must be in (0, 1]");
        assertThatThrownBy(() -> WorkerEnvironment.of(Map.of("TRANCHE_SCHEDULER_ADDRESS", "s:1")))
                .hasMessageContaining("needs TRANCHE_EXPERIMENT_ID and TRANCHE_CREDENTIAL");
    }
}

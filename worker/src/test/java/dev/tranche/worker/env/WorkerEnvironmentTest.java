package dev.tranche.worker.env;

import dev.tranche.testing.TestCertificates;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class WorkerEnvironmentTest
{
    @TempDir
    Path directory;

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
                Map.entry("TRANCHE_CHECKPOINT_DIR", "/ckpt/exp-7k2m9q4xz1"),
                Map.entry("TRANCHE_DRIVER_PORT", "17001"),
                Map.entry("TRANCHE_BLOCK_MANAGER_PORT", "17002"),
                Map.entry("TRANCHE_GRADIENT_PORT", "17003")));
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
        assertThat(env.driverPort()).hasValue(17001);
        assertThat(env.blockManagerPort()).hasValue(17002);
        assertThat(env.gradientPort()).hasValue(17003);
        // the gang's driver binds the ports the scheduler allocated
        var options = dev.tranche.worker.cluster.Gang.driverOptions(
                new dev.tranche.worker.train.TrainOptions(dev.tranche.proto.v1.ExperimentSpec.getDefaultInstance(), dev.tranche.worker.train.TrainOptions.Engine.spark,
                        "local[1]", 1, 1, java.util.Optional.empty()),
                env, new dev.tranche.worker.cluster.SparkHome(Path.of("/spark"), List.of("/classes")), 1, 512);
        assertThat(options.sparkConf()).containsEntry("spark.driver.port", "17001").containsEntry("spark.driver.blockManager.port", "17002");
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
        assertThatThrownBy(() -> WorkerEnvironment.of(Map.of("TRANCHE_GRADIENT_PORT", "70000")))
                .hasMessage("TRANCHE_GRADIENT_PORT must be a port from 1 to 65535: got 70000");
        assertThatThrownBy(() -> WorkerEnvironment.of(Map.of("TRANCHE_GPU_FRACTION", "1.5")))
                .hasMessageContaining("TRANCHE_GPU_FRACTION must be in (0, 1]");
        assertThatThrownBy(() -> WorkerEnvironment.of(Map.of("TRANCHE_SCHEDULER_ADDRESS", "s:1")))
                .hasMessageContaining("needs TRANCHE_EXPERIMENT_ID and TRANCHE_CREDENTIAL");
    }

    /** "-1" and "2,2" were taken as GPUs: a child saw CUDA_VISIBLE_DEVICES=-1 (no GPU at all) or one GPU counted twice. */
    @Test
    void negativeOrRepeatedGpuIdsAreRefusedNamingTheVariableAndTheValue()
    {
        assertThatThrownBy(() -> WorkerEnvironment.of(Map.of("TRANCHE_GPU_IDS", "0,-1")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("TRANCHE_GPU_IDS must list GPU ids of 0 or more: got -1 in '0,-1'");
        assertThatThrownBy(() -> WorkerEnvironment.of(Map.of("TRANCHE_GPU_IDS", "2, 3,2")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("TRANCHE_GPU_IDS must list each GPU once: got 2 twice in '2, 3,2'");
        assertThatThrownBy(() -> WorkerEnvironment.of(Map.of("TRANCHE_GPU_IDS", "0,x")))
                .hasMessage("TRANCHE_GPU_IDS must be an integer: got 'x'");
        assertThat(WorkerEnvironment.of(Map.of("TRANCHE_GPU_IDS", "0, 3")).gpuIds()).containsExactly(0, 3);
    }

    @Test
    void schedulerChannelIsPlaintextUnlessToldOtherwise()
    {
        WorkerEnvironment env = WorkerEnvironment.standalone();
        assertThat(env.schedulerTls()).isFalse();
        assertThat(env.schedulerCa()).isEmpty();
        assertThat(WorkerEnvironment.of(Map.of("TRANCHE_SCHEDULER_TLS", "0")).schedulerTls()).isFalse();
        assertThat(WorkerEnvironment.of(Map.of("TRANCHE_SCHEDULER_TLS", "false")).schedulerTls()).isFalse();
    }

    @Test
    void schedulerTlsWithTheSystemsCas()
    {
        for (String on : List.of("1", "true", "TRUE", " 1 ")) {
            WorkerEnvironment env = WorkerEnvironment.of(Map.of("TRANCHE_SCHEDULER_TLS", on));
            assertThat(env.schedulerTls()).as(on).isTrue();
            assertThat(env.schedulerCa()).isEmpty();
        }
        assertThatThrownBy(() -> WorkerEnvironment.of(Map.of("TRANCHE_SCHEDULER_TLS", "yes")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("TRANCHE_SCHEDULER_TLS must be 1 (TLS, trusting the system's CAs) or 0: got 'yes'");
    }

    @Test
    void schedulerCaMeansTlsTrustingThatFile()
    {
        TestCertificates.Pair pair = TestCertificates.selfSigned(directory, "scheduler");
        WorkerEnvironment env = WorkerEnvironment.of(Map.of("TRANCHE_SCHEDULER_CA", pair.certificate().toString()));
        assertThat(env.schedulerTls()).isTrue();
        assertThat(env.schedulerCa()).contains(pair.certificate());
        assertThat(WorkerEnvironment.of(Map.of("TRANCHE_SCHEDULER_CA", pair.certificate().toString(), "TRANCHE_SCHEDULER_TLS", "1")).schedulerCa())
                .contains(pair.certificate());
        // the gang leader a local --replicas run makes of it keeps the scheduler's TLS
        WorkerEnvironment leader = env.asGangLeader(3, "127.0.0.1:7077");
        assertThat(leader.worldSize()).isEqualTo(3);
        assertThat(leader.masterAddress()).contains("127.0.0.1:7077");
        assertThat(leader.schedulerCa()).contains(pair.certificate());
    }

    @Test
    void unreadableOrWrongSchedulerCaIsAClearError()
            throws IOException
    {
        Path missing = directory.resolve("missing-ca.crt");
        assertThatThrownBy(() -> WorkerEnvironment.of(Map.of("TRANCHE_SCHEDULER_CA", missing.toString())))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("TRANCHE_SCHEDULER_CA: cannot read " + missing + " (the PEM certificate of the CA that signed the scheduler's certificate)");

        Path garbage = Files.writeString(directory.resolve("garbage.crt"), "not a certificate\n");
        assertThatThrownBy(() -> WorkerEnvironment.of(Map.of("TRANCHE_SCHEDULER_CA", garbage.toString())))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("TRANCHE_SCHEDULER_CA " + garbage + " is not a PEM certificate: ");

        Path empty = Files.writeString(directory.resolve("empty.crt"), "");
        assertThatThrownBy(() -> WorkerEnvironment.of(Map.of("TRANCHE_SCHEDULER_CA", empty.toString())))
                .hasMessage("TRANCHE_SCHEDULER_CA " + empty + " is not a PEM certificate: no certificate in it");

        assertThatThrownBy(() -> WorkerEnvironment.of(Map.of("TRANCHE_SCHEDULER_CA", directory.toString())))
                .hasMessageStartingWith("TRANCHE_SCHEDULER_CA: cannot read " + directory + " ");

        TestCertificates.Pair pair = TestCertificates.selfSigned(directory, "scheduler");
        assertThatThrownBy(() -> WorkerEnvironment.of(Map.of("TRANCHE_SCHEDULER_CA", pair.certificate().toString(), "TRANCHE_SCHEDULER_TLS", "0")))
                .hasMessage("TRANCHE_SCHEDULER_CA means TLS, but TRANCHE_SCHEDULER_TLS is 0: unset one of them");
    }
}

package dev.tranche.scheduler.security;

import dev.tranche.client.TrancheClient;
import dev.tranche.proto.v1.ExperimentSpec;
import dev.tranche.scheduler.inventory.DeclaredInventory;
import dev.tranche.testing.TestCertificates;
import dev.tranche.scheduler.testing.TestingScheduler;
import dev.tranche.spec.ExperimentSpecFiles;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A TLS scheduler that runs its workers on this machine tells them how to trust it: its own
 * certificate file as TRANCHE_SCHEDULER_CA, with 127.0.0.1 as the address, and what a worker is
 * told is enough to reach the scheduler over TLS.
 */
final class TlsLocalWorkersTest
{
    private static final Path EXAMPLE = Path.of("..", "docs", "examples", "fashion-mnist-lenet.yaml");

    @TempDir
    Path files;

    @Test
    void localWorkersAreGivenTheCertificateAndCanReachTheSchedulerWithIt()
            throws Exception
    {
        TestCertificates.Pair certificate = TestCertificates.selfSigned(files.resolve("tls"), "tranche-scheduler");
        // a stand-in for `tranche worker`: prints what it was told about the scheduler and ends
        Path worker = Files.writeString(files.resolve("worker.sh"), """
                #!/bin/sh
                echo "address=$TRANCHE_SCHEDULER_ADDRESS"
                echo "ca=${TRANCHE_SCHEDULER_CA:-unset}"
                echo "tls=${TRANCHE_SCHEDULER_TLS:-unset}"
                """);
        Files.setPosixFilePermissions(worker, PosixFilePermissions.fromString("rwxr-xr-x"));
        DeclaredInventory inventory = new DeclaredInventory(1, 1, 24_576, "SIM-24G", 32_000, 131_072);

        try (TestingScheduler scheduler = TestingScheduler.withTlsAndLocalWorkers(new SecuritySettings.TlsFiles(certificate.certificate(), certificate.privateKey()), inventory, List.of(worker.toString()));
                TrancheClient client = scheduler.client(TestingScheduler.ADMIN_TOKEN)) {
            ExperimentSpec spec = ExperimentSpecFiles.read(EXAMPLE);
            String id = client.submit(spec).getExperiment().getId();
            await().atMost(Duration.ofSeconds(30)).until(() -> client.logs(id, 0, 10).stream().anyMatch(line -> line.startsWith("tls=")));
            Map<String, String> told = client.logs(id, 0, 10).stream().filter(line -> line.contains("="))
                    .collect(Collectors.toMap(line -> line.substring(0, line.indexOf('=')), line -> line.substring(line.indexOf('=') + 1), (a, b) -> b));
            assertThat(told).containsEntry("address", scheduler.target())
                    .containsEntry("ca", certificate.certificate().toAbsolutePath().toString())
                    .containsEntry("tls", "1");

            // what the worker does with it (dev.tranche.worker.metrics.SchedulerChannel): TLS trusting that file
            ManagedChannel channel = Grpc.newChannelBuilder(told.get("address"),
                    TlsChannelCredentials.newBuilder().trustManager(Path.of(told.get("ca")).toFile()).build()).build();
            try {
                HealthCheckResponse health = HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                        .check(HealthCheckRequest.getDefaultInstance());
                assertThat(health.getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
            }
            finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }
}

package dev.tranche.scheduler.server;

import dev.tranche.client.ConnectionSettings;
import dev.tranche.client.TrancheClient;
import dev.tranche.proto.v1.Experiment;
import dev.tranche.proto.v1.ExperimentState;
import dev.tranche.scheduler.testing.Specs;
import dev.tranche.scheduler.testing.TestingScheduler;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The scheduler process, with its embedded PostgreSQL, is killed with SIGKILL while clients are
 * submitting; started again on the same home, it still has every experiment it acknowledged, in the
 * state it acknowledged.
 */
final class RestartDurabilityTest
{
    @TempDir
    Path home;

    private Process process;

    @AfterEach
    void stop()
            throws InterruptedException
    {
        if (process != null && process.isAlive()) {
            process.destroy();   // SIGTERM: graceful shutdown also stops PostgreSQL
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }

    @Test
    void everyAcknowledgedExperimentSurvivesKillDashNine()
            throws Exception
    {
        int grpcPort = freePort();
        int httpPort = freePort();
        process = startScheduler(grpcPort, httpPort, "first.log");
        awaitServing(grpcPort);

        Map<String, ExperimentState> acknowledged = new ConcurrentHashMap<>();
        try (TrancheClient client = client(grpcPort)) {
            for (int i = 0; i < 40; i++) {
                Experiment experiment = client.submit(Specs.named("before-" + i, "default")).getExperiment();
                acknowledged.put(experiment.getId(), ExperimentState.PENDING);
            }
            List<String> ids = new ArrayList<>(acknowledged.keySet());
            for (String id : ids.subList(0, 10)) {
                acknowledged.put(id, client.cancel(id, "changed my mind").getState());
            }
        }

        // clients keep submitting while the process is killed
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> submitters = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            int thread = t;
            Thread submitter = new Thread(() -> {
                try (TrancheClient client = client(grpcPort)) {
                    for (int i = 0; !stop.get(); i++) {
                        try {
                            Experiment experiment = client.submit(Specs.named("during-" + thread + "-" + i, "default")).getExperiment();
                            acknowledged.put(experiment.getId(), experiment.getState());
                        }
                        catch (StatusRuntimeException e) {
                            return;   // the server is gone: not acknowledged, so nothing is promised
                        }
                    }
                }
            });
            submitter.start();
            submitters.add(submitter);
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> acknowledged.size() >= 200);
        process.destroyForcibly();   // SIGKILL: no shutdown hook runs, PostgreSQL is left behind
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
        stop.set(true);
        for (Thread submitter : submitters) {
            submitter.join(30_000);
        }
        assertThat(acknowledged.size()).isGreaterThanOrEqualTo(200);

        process = startScheduler(grpcPort, httpPort, "second.log");
        awaitServing(grpcPort);
        try (TrancheClient client = client(grpcPort)) {
            for (Map.Entry<String, ExperimentState> entry : acknowledged.entrySet()) {
                assertThat(client.get(entry.getKey()).getState()).as(entry.getKey()).isEqualTo(entry.getValue());
            }
        }
        assertThat(Files.readString(home.resolve("second.log"))).contains("left running on");
    }

    private Process startScheduler(int grpcPort, int httpPort, String log)
            throws IOException
    {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder builder = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"), "dev.tranche.cli.Tranche", "server",
                "--home", home.resolve("tranche").toString(), "--bind", "127.0.0.1",
                "--grpc-port", Integer.toString(grpcPort), "--http-port", Integer.toString(httpPort), "--rate-limit", "0");
        builder.environment().put("TRANCHE_ADMIN_TOKEN", TestingScheduler.ADMIN_TOKEN);
        return builder
                .redirectErrorStream(true)
                .redirectOutput(home.resolve(log).toFile())
                .start();
    }

    private static TrancheClient client(int grpcPort)
    {
        return TrancheClient.connect(ConnectionSettings.plaintext("127.0.0.1:" + grpcPort).withToken(TestingScheduler.ADMIN_TOKEN));
    }

    private void awaitServing(int port)
    {
        ManagedChannel channel = Grpc.newChannelBuilder("127.0.0.1:" + port, InsecureChannelCredentials.create()).build();
        try {
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).ignoreExceptions().until(() -> {
                assertThat(process.isAlive()).as("scheduler process is running").isTrue();
                return HealthGrpc.newBlockingStub(channel).withDeadlineAfter(2, TimeUnit.SECONDS)
                        .check(HealthCheckRequest.getDefaultInstance()).getStatus() == HealthCheckResponse.ServingStatus.SERVING;
            });
        }
        finally {
            channel.shutdownNow();
        }
    }

    private static int freePort()
            throws IOException
    {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}

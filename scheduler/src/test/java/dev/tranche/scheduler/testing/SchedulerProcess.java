package dev.tranche.scheduler.testing;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code tranche server} as its own process (this test run's class path), on loopback ports and a
 * home of the test's choosing: for tests that kill processes, which an in-JVM server cannot show.
 */
public final class SchedulerProcess
        implements AutoCloseable
{
    private final Process process;
    private final Path log;
    private final int grpcPort;
    private final int httpPort;

    private SchedulerProcess(Process process, Path log, int grpcPort, int httpPort)
    {
        this.process = process;
        this.log = log;
        this.grpcPort = grpcPort;
        this.httpPort = httpPort;
    }

    /** Starts {@code tranche server --home HOME} with {@code environment} added; does not wait for it to serve. */
    public static SchedulerProcess start(Path home, int grpcPort, int httpPort, Path log, Map<String, String> environment, String... arguments)
            throws IOException
    {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command = new ArrayList<>(List.of(java.toString(), "-cp", System.getProperty("java.class.path"), "dev.tranche.cli.Tranche", "server",
                "--home", home.toString(), "--bind", "127.0.0.1", "--grpc-port", Integer.toString(grpcPort), "--http-port", Integer.toString(httpPort)));
        command.addAll(List.of(arguments));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().remove("TRANCHE_ADMIN_TOKEN");
        builder.environment().putAll(environment);
        return new SchedulerProcess(builder.start(), log, grpcPort, httpPort);
    }

    public static int freePort()
            throws IOException
    {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    /** Waits until gRPC health says SERVING. */
    public SchedulerProcess awaitServing(Duration timeout)
    {
        ManagedChannel channel = Grpc.newChannelBuilder("127.0.0.1:" + grpcPort, InsecureChannelCredentials.create()).build();
        try {
            await().atMost(timeout).pollInterval(Duration.ofMillis(200)).ignoreExceptions().until(() -> {
                assertThat(process.isAlive()).as("the scheduler process is running; its output:\n" + output()).isTrue();
                return HealthGrpc.newBlockingStub(channel).withDeadlineAfter(2, TimeUnit.SECONDS)
                        .check(HealthCheckRequest.getDefaultInstance()).getStatus() == HealthCheckResponse.ServingStatus.SERVING;
            });
        }
        finally {
            channel.shutdownNow();
        }
        return this;
    }

    public Process process()
    {
        return process;
    }

    public int grpcPort()
    {
        return grpcPort;
    }

    public int httpPort()
    {
        return httpPort;
    }

    /** What the process printed so far (stdout and stderr). */
    public String output()
    {
        try {
            return Files.exists(log) ? Files.readString(log) : "";
        }
        catch (IOException e) {
            return "(cannot read " + log + ": " + e.getMessage() + ")";
        }
    }

    /** SIGTERM, and how long the process took to exit (it is killed after 60 s). */
    public Duration terminate()
            throws InterruptedException
    {
        long started = System.nanoTime();
        process.destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
        return Duration.ofNanos(System.nanoTime() - started);
    }

    @Override
    public void close()
            throws InterruptedException
    {
        if (process.isAlive()) {
            terminate();
        }
    }
}

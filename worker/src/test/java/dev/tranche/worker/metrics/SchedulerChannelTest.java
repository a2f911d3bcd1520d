package dev.tranche.worker.metrics;

import dev.tranche.proto.v1.MetricBatch;
import dev.tranche.proto.v1.MetricsServiceGrpc;
import dev.tranche.proto.v1.ReportAck;
import dev.tranche.worker.env.WorkerEnvironment;
import dev.tranche.testing.TestCertificates;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The worker's metrics channel against a scheduler-like gRPC server that serves TLS with a self-signed certificate. */
class SchedulerChannelTest
{
    @TempDir
    static Path directory;

    private static TestCertificates.Pair certificate;
    private static TestCertificates.Pair stranger;
    private static Server server;
    private static final List<MetricBatch> received = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void start()
            throws Exception
    {
        certificate = TestCertificates.selfSigned(directory.resolve("scheduler"), "scheduler");
        stranger = TestCertificates.selfSigned(directory.resolve("stranger"), "stranger");
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .sslContext(GrpcSslContexts.configure(SslContextBuilder.forServer(certificate.keys().getPrivate(), certificate.x509())).build())
                .addService(new MetricsServiceGrpc.MetricsServiceImplBase()
                {
                    @Override
                    public StreamObserver<MetricBatch> report(StreamObserver<ReportAck> responses)
                    {
                        return new StreamObserver<>()
                        {
                            private long points;

                            @Override
                            public void onNext(MetricBatch batch)
                            {
                                received.add(batch);
                                points += batch.getPointsCount();
                            }

                            @Override
                            public void onError(Throwable t) {}

                            @Override
                            public void onCompleted()
                            {
                                responses.onNext(ReportAck.newBuilder().setStored(points).build());
                                responses.onCompleted();
                            }
                        };
                    }
                })
                .build()
                .start();
    }

    @AfterAll
    static void stop()
            throws InterruptedException
    {
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    @BeforeEach
    void clear()
    {
        received.clear();
    }

    private record Report(boolean stored, String log) {}

    /** Sends one point over the channel the environment describes: whether it was stored within a few seconds, and the client's log. */
    private static Report report(String target, Map<String, String> env)
            throws InterruptedException
    {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        WorkerEnvironment environment = WorkerEnvironment.of(env);
        ManagedChannel channel = SchedulerChannel.open(target, environment);
        MetricsClientConfig config = new MetricsClientConfig("exp-tls", "secret", 0, 100, 10, Duration.ofMillis(50), Duration.ofMillis(50),
                Duration.ofMillis(200), Duration.ofSeconds(2));
        MetricsClient client = new MetricsClient(channel, config, new PrintStream(log, true, StandardCharsets.UTF_8), Clock.systemUTC());
        try {
            client.add("loss", 0.5, 1, 1);
            boolean stored = client.flush(Duration.ofSeconds(2));
            return new Report(stored, log.toString(StandardCharsets.UTF_8));
        }
        finally {
            client.close(Duration.ofSeconds(1));
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private static String target(String host)
    {
        return host + ":" + server.getPort();
    }

    @Test
    void trustingTheSchedulersCertificateReports()
            throws InterruptedException
    {
        for (String host : List.of("127.0.0.1", "localhost")) {
            received.clear();
            Report report = report(target(host), Map.of("TRANCHE_SCHEDULER_CA", certificate.certificate().toString()));
            assertThat(report.stored()).as(host).isTrue();
            assertThat(report.log()).isEmpty();
            assertThat(received).singleElement().satisfies(batch -> {
                assertThat(batch.getExperimentId()).isEqualTo("exp-tls");
                assertThat(batch.getPoints(0).getName()).isEqualTo("loss");
            });
        }
    }

    @Test
    void trustingAnotherCaReportsNothing()
            throws InterruptedException
    {
        for (Map<String, String> trust : List.of(Map.of("TRANCHE_SCHEDULER_CA", stranger.certificate().toString()),
                // the system's CAs do not know a self-signed certificate either
                Map.of("TRANCHE_SCHEDULER_TLS", "1"))) {
            Report report = report(target("127.0.0.1"), trust);
            assertThat(report.stored()).as(trust.toString()).isFalse();
            // said once, however often it retries
            assertThat(report.log().lines().filter(line -> line.startsWith("warning: metrics: cannot deliver to the scheduler (UNAVAILABLE: "))).hasSize(1);
            assertThat(report.log()).contains("unable to find valid certification path").contains("check TRANCHE_SCHEDULER_CA / TRANCHE_SCHEDULER_TLS");
        }
        assertThat(received).isEmpty();
    }

    @Test
    void plaintextReportsNothingToATlsScheduler()
            throws InterruptedException
    {
        Report report = report(target("127.0.0.1"), Map.of());
        assertThat(report.stored()).isFalse();
        assertThat(report.log()).startsWith("warning: metrics: cannot deliver to the scheduler (UNAVAILABLE: ");
        assertThat(received).isEmpty();
    }
}

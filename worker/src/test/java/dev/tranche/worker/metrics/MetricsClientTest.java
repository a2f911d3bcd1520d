package dev.tranche.worker.metrics;

import dev.tranche.proto.v1.MetricBatch;
import dev.tranche.proto.v1.MetricPoint;
import dev.tranche.proto.v1.MetricsServiceGrpc;
import dev.tranche.proto.v1.ReportAck;
import dev.tranche.worker.train.EpochResult;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** The client against a small real gRPC service in the same process. */
class MetricsClientTest
{
    private final List<MetricBatch> received = new CopyOnWriteArrayList<>();
    private final AtomicInteger failuresLeft = new AtomicInteger();
    private volatile Status failWith = Status.UNAVAILABLE;
    private final ByteArrayOutputStream log = new ByteArrayOutputStream();
    private Server server;
    private ManagedChannel channel;

    private MetricsClient start(MetricsClientConfig config)
            throws IOException
    {
        String name = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(name).directExecutor().addService(new MetricsServiceGrpc.MetricsServiceImplBase()
        {
            @Override
            public StreamObserver<MetricBatch> report(StreamObserver<ReportAck> responses)
            {
                return new StreamObserver<>()
                {
                    private final List<MetricBatch> batches = new CopyOnWriteArrayList<>();

                    @Override
                    public void onNext(MetricBatch batch)
                    {
                        batches.add(batch);
                    }

                    @Override
                    public void onError(Throwable t) {}

                    @Override
                    public void onCompleted()
                    {
                        if (failuresLeft.getAndDecrement() > 0) {
                            responses.onError(failWith.asRuntimeException());
                            return;
                        }
                        received.addAll(batches);
                        responses.onNext(ReportAck.newBuilder().setStored(batches.stream().mapToLong(MetricBatch::getPointsCount).sum()).build());
                        responses.onCompleted();
                    }
                };
            }
        }).build().start();
        channel = InProcessChannelBuilder.forName(name).directExecutor().build();
        return new MetricsClient(channel, config, new PrintStream(log, true, StandardCharsets.UTF_8), Clock.systemUTC());
    }

    @AfterEach
    void stop()
            throws InterruptedException
    {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    private static MetricsClientConfig config(int buffer, int batch)
    {
        return new MetricsClientConfig("exp-1", "secret", 0, buffer, batch, Duration.ofMillis(50), Duration.ofMillis(10), Duration.ofMillis(40), Duration.ofSeconds(2));
    }

    @Test
    void stepsAndEpochsArriveBatchedWithTheExperimentAndCredential()
            throws IOException
    {
        MetricsClient client = start(config(1000, 10));
        for (int step = 1; step <= 10; step++) {
            client.step(1, 2, step, 10, step, 1.0 / step, 300, 0.001, 5);
        }
        client.epoch(new EpochResult(1, 2, 0.5, 0.4, 0.9, 12.5, 310));
        client.test(1, 0.45, 0.88);
        client.close(Duration.ofSeconds(5));

        assertThat(received).allSatisfy(batch -> {
            assertThat(batch.getExperimentId()).isEqualTo("exp-1");
            assertThat(batch.getCredential()).isEqualTo("secret");
            assertThat(batch.getPointsCount()).isBetween(1, 10);
        });
        List<MetricPoint> points = received.stream().flatMap(b -> b.getPointsList().stream()).toList();
        // 10 steps x 3 series, an epoch's 4 (train loss, validation loss and accuracy, seconds), the test's 2
        assertThat(points).hasSize(36);
        assertThat(points).filteredOn(p -> p.getName().equals("loss")).extracting(MetricPoint::getStep).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L);
        assertThat(points).filteredOn(p -> p.getName().equals("validation_accuracy")).singleElement()
                .satisfies(p -> assertThat(p.getValue()).isEqualTo(0.9));
        assertThat(points).filteredOn(p -> p.getName().equals("test_accuracy")).singleElement()
                .satisfies(p -> {
                    assertThat(p.getValue()).isEqualTo(0.88);
                    assertThat(p.getEpoch()).isEqualTo(1);
                    assertThat(p.getAt().getSeconds()).isPositive();
                });
        assertThat(client.sentPoints()).isEqualTo(36);
    }

    @Test
    void unavailableSchedulerIsRetriedWithBackOffUntilItAnswers()
            throws IOException
    {
        failuresLeft.set(4);
        MetricsClient client = start(config(1000, 5));
        for (int i = 0; i < 5; i++) {
            client.add("loss", i, i, 1);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (client.sentPoints() < 5 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        client.close(Duration.ofSeconds(1));
        assertThat(client.failedSends()).isEqualTo(4);
        assertThat(received).hasSize(1);
        assertThat(received.get(0).getPointsList()).extracting(MetricPoint::getValue).containsExactly(0.0, 1.0, 2.0, 3.0, 4.0);
    }

    @Test
    void fullBufferDropsTheOldestAndSaysHowMany()
            throws IOException
    {
        failuresLeft.set(Integer.MAX_VALUE);
        MetricsClient client = start(config(20, 5));
        for (int i = 0; i < 100; i++) {
            client.add("loss", i, i, 1);
            assertThat(client.buffered()).isLessThanOrEqualTo(20);
        }
        assertThat(client.droppedPoints()).isGreaterThanOrEqualTo(75);
        failuresLeft.set(0);
        client.close(Duration.ofSeconds(5));
        List<MetricPoint> points = received.stream().flatMap(b -> b.getPointsList().stream()).toList();
        // the newest survive, in order
        assertThat(points).extracting(MetricPoint::getValue).last().isEqualTo(99.0);
        assertThat(points).extracting(MetricPoint::getValue).isSorted();
        assertThat(received.get(received.size() - 1).getDroppedPoints()).isEqualTo(client.droppedPoints());
        assertThat(points.size() + client.droppedPoints()).isEqualTo(100);
    }

    @Test
    void refusedCredentialIsNotRetried()
            throws IOException
    {
        failWith = Status.UNAUTHENTICATED.withDescription("wrong credential for exp-1");
        failuresLeft.set(1);
        MetricsClient client = start(config(100, 3));
        client.add("loss", 1, 1, 1);
        client.add("loss", 2, 2, 1);
        client.add("loss", 3, 3, 1);
        client.add("loss", 4, 4, 1);
        client.close(Duration.ofSeconds(5));
        assertThat(client.failedSends()).isEqualTo(1);
        assertThat(log.toString(StandardCharsets.UTF_8)).contains("refused 3 points (UNAUTHENTICATED: wrong credential for exp-1)");
        assertThat(received.stream().flatMap(b -> b.getPointsList().stream())).extracting(MetricPoint::getValue).containsExactly(4.0);
    }

    @Test
    void nonFiniteValuesAreNotSent()
            throws IOException
    {
        MetricsClient client = start(config(100, 3));
        client.add("loss", Double.NaN, 1, 1);
        client.add("loss", Double.POSITIVE_INFINITY, 2, 1);
        assertThat(client.buffered()).isZero();
        client.close(Duration.ofSeconds(1));
    }
}

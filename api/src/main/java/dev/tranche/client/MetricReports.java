package dev.tranche.client;

import dev.tranche.proto.v1.MetricBatch;
import dev.tranche.proto.v1.MetricsServiceGrpc;
import dev.tranche.proto.v1.ReportAck;
import io.grpc.Channel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;

import java.util.Iterator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/**
 * Metric batches sent the way a worker sends them: one client stream to {@code MetricsService/Report}
 * (the credential travels in the batches, not in a user token), then the server's acknowledgement.
 */
public final class MetricReports
{
    private MetricReports() {}

    /**
     * Sends {@code batches} on one stream from a thread of its own, only while gRPC says the server
     * keeps up (flow control), and completes with the acknowledgement, or exceptionally with the
     * server's status when it refuses the stream.
     */
    public static CompletableFuture<ReportAck> send(Channel channel, Iterator<MetricBatch> batches, String threadName)
    {
        requireNonNull(channel, "channel is null");
        requireNonNull(batches, "batches is null");
        CompletableFuture<ReportAck> result = new CompletableFuture<>();
        Semaphore ready = new Semaphore(0);
        ClientResponseObserver<MetricBatch, ReportAck> observer = new ClientResponseObserver<>()
        {
            @Override
            public void beforeStart(ClientCallStreamObserver<MetricBatch> requestStream)
            {
                requestStream.setOnReadyHandler(ready::release);
            }

            @Override
            public void onNext(ReportAck value)
            {
                result.complete(value);
            }

            @Override
            public void onError(Throwable t)
            {
                result.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {}
        };
        ClientCallStreamObserver<MetricBatch> requests = (ClientCallStreamObserver<MetricBatch>) MetricsServiceGrpc.newStub(channel).report(observer);
        Thread sender = new Thread(() -> {
            while (batches.hasNext() && !result.isDone()) {
                while (!requests.isReady() && !result.isDone()) {
                    try {
                        ready.tryAcquire(100, TimeUnit.MILLISECONDS);
                    }
                    catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        requests.cancel("interrupted", e);
                        return;
                    }
                }
                if (!result.isDone()) {
                    requests.onNext(batches.next());
                }
            }
            requests.onCompleted();
        }, threadName);
        sender.setDaemon(true);
        sender.start();
        return result;
    }
}

package dev.tranche.scheduler.testing;

import dev.tranche.client.MetricReports;
import dev.tranche.proto.v1.MetricBatch;
import dev.tranche.proto.v1.ReportAck;
import io.grpc.Channel;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;

import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Sends metric batches the way a worker does ({@link MetricReports}), then waits for the acknowledgement. */
public final class MetricStreams
{
    private MetricStreams() {}

    /** Over a connection of its own without a user token, as a worker sends them (its credential is in the batches). */
    public static ReportAck report(String target, List<MetricBatch> batches)
            throws ExecutionException, InterruptedException, TimeoutException
    {
        ManagedChannel channel = Grpc.newChannelBuilder(target, InsecureChannelCredentials.create()).build();
        try {
            return report(channel, batches);
        }
        finally {
            channel.shutdownNow();
        }
    }

    /** Throws ExecutionException with the server's status when it refuses the stream. */
    public static ReportAck report(Channel channel, List<MetricBatch> batches)
            throws ExecutionException, InterruptedException, TimeoutException
    {
        return MetricReports.send(channel, batches.iterator(), "test-metric-stream").get(30, TimeUnit.SECONDS);
    }
}

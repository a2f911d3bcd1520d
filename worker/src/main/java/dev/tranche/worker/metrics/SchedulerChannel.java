package dev.tranche.worker.metrics;

import dev.tranche.worker.env.WorkerEnvironment;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * The worker's channel to the scheduler: plaintext, or TLS when the backend says the scheduler serves
 * it ({@code TRANCHE_SCHEDULER_TLS=1}: trusting the system's CAs; {@code TRANCHE_SCHEDULER_CA=FILE}:
 * trusting the certificates in that PEM file).
 */
public final class SchedulerChannel
{
    private SchedulerChannel() {}

    public static ManagedChannel open(String target, WorkerEnvironment environment)
    {
        return Grpc.newChannelBuilder(target, credentials(environment)).build();
    }

    static ChannelCredentials credentials(WorkerEnvironment environment)
    {
        if (!environment.schedulerTls()) {
            return InsecureChannelCredentials.create();
        }
        if (environment.schedulerCa().isEmpty()) {
            return TlsChannelCredentials.create();
        }
        Path ca = environment.schedulerCa().get();
        try {
            return TlsChannelCredentials.newBuilder().trustManager(ca.toFile()).build();
        }
        catch (IOException e) {
            throw new UncheckedIOException(WorkerEnvironment.SCHEDULER_CA + ": cannot read " + ca + ": " + e.getMessage(), e);
        }
    }
}

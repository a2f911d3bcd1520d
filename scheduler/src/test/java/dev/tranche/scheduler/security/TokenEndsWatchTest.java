package dev.tranche.scheduler.security;

import dev.tranche.client.TrancheClient;
import dev.tranche.proto.v1.CreateTokenRequest;
import dev.tranche.proto.v1.ExperimentEvent;
import dev.tranche.proto.v1.WatchExperimentsRequest;
import dev.tranche.scheduler.testing.AdjustableClock;
import dev.tranche.scheduler.testing.Specs;
import dev.tranche.scheduler.testing.TestingScheduler;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * A token is checked when a call starts, and a watch is one call that lasts: revoking the token ends
 * the watches opened with it, over gRPC and over the dashboard's event stream, and so does its expiry,
 * instead of letting them show the projects' changes to whoever still holds it.
 */
final class TokenEndsWatchTest
{
    private final AdjustableClock clock = new AdjustableClock();
    private TestingScheduler scheduler;
    private TrancheClient admin;

    @BeforeEach
    void start()
    {
        scheduler = TestingScheduler.withClock(Optional.empty(), clock);
        admin = scheduler.client();
    }

    @AfterEach
    void stop()
    {
        scheduler.close();
    }

    @Test
    void revokingATokenEndsItsGrpcWatch()
            throws Exception
    {
        var issued = admin.createToken(CreateTokenRequest.newBuilder().setSubject("leaver").setRole(dev.tranche.proto.v1.Role.MEMBER).addProjects("default").build());
        try (TrancheClient member = scheduler.client(issued.getSecret())) {
            Iterator<ExperimentEvent> events = member.watch(WatchExperimentsRequest.newBuilder().setProject("default").build());
            String first = admin.submit(Specs.named("seen", "default")).getExperiment().getId();
            assertThat(events.next().getExperiment().getId()).isEqualTo(first);

            admin.revokeToken(issued.getToken().getId());

            // nothing submitted after the revoke reaches the holder of the token
            admin.submit(Specs.named("unseen", "default"));
            assertThat(endOf(events).getDescription()).isEqualTo("token " + issued.getToken().getId() + " was revoked; this watch has ended");
        }
    }

    @Test
    void revokingATokenEndsItsDashboardEventStream()
            throws Exception
    {
        var issued = admin.createToken(CreateTokenRequest.newBuilder().setSubject("tab").setRole(dev.tranche.proto.v1.Role.VIEWER).addProjects("default").build());
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + scheduler.httpPort() + "/api/v1/events?skip_current=true"))
                .header("Authorization", "Bearer " + issued.getSecret())
                .header("Accept", "text/event-stream")
                .build();
        HttpResponse<InputStream> stream = HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofInputStream());
        assertThat(stream.statusCode()).isEqualTo(200);
        CompletableFuture<List<String>> lines = CompletableFuture.supplyAsync(() -> {
            List<String> read = new ArrayList<>();
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(stream.body(), StandardCharsets.UTF_8))) {
                for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                    if (!line.isBlank() && !line.startsWith(":")) {
                        read.add(line);
                    }
                }
            }
            catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return read;
        });
        // the stream is open (a change reaches it) before the token goes
        admin.submit(Specs.named("seen", "default"));
        Thread.sleep(500);
        admin.revokeToken(issued.getToken().getId());

        // the stream ends, and says why
        List<String> read = lines.get(10, TimeUnit.SECONDS);
        assertThat(read).contains("event: watch-ended");
        assertThat(read.get(read.size() - 1)).contains("UNAUTHENTICATED").contains("was revoked");
    }

    @Test
    void aWatchEndsWhenItsTokenExpires()
            throws Exception
    {
        var issued = admin.createToken(CreateTokenRequest.newBuilder().setSubject("temporary").setRole(dev.tranche.proto.v1.Role.VIEWER)
                .addProjects("default").setTtlSeconds(3600).build());
        try (TrancheClient viewer = scheduler.client(issued.getSecret())) {
            Iterator<ExperimentEvent> events = viewer.watch(WatchExperimentsRequest.newBuilder().setProject("default").build());
            String first = admin.submit(Specs.named("before", "default")).getExperiment().getId();
            assertThat(events.next().getExperiment().getId()).isEqualTo(first);

            clock.advance(Duration.ofHours(1));
            admin.submit(Specs.named("after", "default"));

            assertThat(endOf(events).getDescription()).startsWith("token " + issued.getToken().getId() + " expired at ").endsWith("; this watch has ended");
        }
    }

    /** How the watch ended: UNAUTHENTICATED, with no further event before it. */
    private static Status endOf(Iterator<ExperimentEvent> events)
    {
        CompletableFuture<String> next = CompletableFuture.supplyAsync(() -> events.next().getExperiment().getId());
        Throwable ended = catchThrowable(() -> next.get(10, TimeUnit.SECONDS));
        assertThat(ended).as("the watch goes on").hasCauseInstanceOf(StatusRuntimeException.class);
        Status status = ((StatusRuntimeException) ended.getCause()).getStatus();
        assertThat(status.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
        return status;
    }
}

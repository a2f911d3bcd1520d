package dev.tranche.scheduler.security;

import dev.tranche.client.TrancheClient;
import dev.tranche.proto.v1.DatasetSpec;
import dev.tranche.proto.v1.ExperimentServiceGrpc;
import dev.tranche.proto.v1.ExperimentSpec;
import dev.tranche.proto.v1.GetExperimentRequest;
import dev.tranche.proto.v1.MetricBatch;
import dev.tranche.proto.v1.MetricPoint;
import dev.tranche.proto.v1.MetricsServiceGrpc;
import dev.tranche.proto.v1.ReportAck;
import dev.tranche.proto.v1.RevokeTokenRequest;
import dev.tranche.proto.v1.AuthServiceGrpc;
import dev.tranche.proto.v1.SubmitExperimentRequest;
import dev.tranche.scheduler.testing.Specs;
import dev.tranche.scheduler.testing.TestingScheduler;
import dev.tranche.files.TempDirectories;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * One test per hole found by attacking a running scheduler (issue: security hardening); each failed
 * on the scheduler before the fix. The embedded PostgreSQL's own test is EmbeddedPostgresSecurityTest,
 * the audit log's AuditLogTest, and the login page's LoginRedirectBrowserTest.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
final class SecurityHardeningTest
{
    private static final String ADMIN = "Bearer " + TestingScheduler.ADMIN_TOKEN;

    private Path datasets;

    private TestingScheduler scheduler;
    private TrancheClient client;
    private String base;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    void start()
            throws Exception
    {
        datasets = Files.createTempDirectory("tranche-datasets-").toRealPath();
        Files.createDirectories(datasets.resolve("images"));
        scheduler = TestingScheduler.withSecurity(security -> security.withDatasetRoots(Optional.of(List.of(datasets, Path.of("/usr/share/datasets/fashion-mnist")))));
        client = scheduler.client();
        base = "http://127.0.0.1:" + scheduler.httpPort();
    }

    @AfterAll
    void stop()
    {
        scheduler.close();
        TempDirectories.deleteTree(datasets);
    }

    // 2. Unbounded request bodies

    @Test
    void chunkedBodiesStopAtTheLimitWithOrWithoutATokenAndTheHeapStaysBounded()
            throws Exception
    {
        long stored = scheduler.count("SELECT count(*) FROM experiments");
        long before = usedHeapAfterGc();
        List<CompletableFuture<HttpResponse<String>>> responses = new ArrayList<>();
        for (String path : List.of("/api/v1/session", "/api/v1/experiments", "/api/v1/experiments", "/api/v1/session")) {
            // 200 MB each, sent chunked (no length), four at once: what exhausted the heap before
            HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new RepeatingStream(200_000_000)));
            if (path.endsWith("experiments")) {
                request.header("Authorization", ADMIN);
            }
            responses.add(http.sendAsync(request.build(), HttpResponse.BodyHandlers.ofString()));
        }
        for (CompletableFuture<HttpResponse<String>> response : responses) {
            HttpResponse<String> answer = response.get(30, TimeUnit.SECONDS);
            assertThat(answer.statusCode()).isEqualTo(413);
            assertThat(answer.body()).contains("REQUEST_TOO_LARGE").contains("KiB");
        }
        // the bound: at most the body budget (64 MiB) in flight, far below 4 x 200 MB
        assertThat(usedHeapAfterGc() - before).isLessThan(64L * 1024 * 1024);
        assertThat(scheduler.count("SELECT count(*) FROM experiments")).isEqualTo(stored);
    }

    @Test
    void aClientStillSendingWhenItsBodyIsRefusedReadsThe413()
            throws Exception
    {
        // A client that writes its whole body before it reads (as many do) must still find the 413:
        // a server that closes with the rest unread makes the kernel reset the connection, and the
        // reset can destroy the answer before the client reads it.
        for (String path : List.of("/api/v1/experiments", "/api/v1/session")) {
            for (boolean chunked : List.of(true, false)) {
                int bodyBytes = 6 * 1024 * 1024;
                try (Socket socket = new Socket("127.0.0.1", scheduler.httpPort())) {
                    socket.setSoTimeout(10_000);
                    OutputStream out = socket.getOutputStream();
                    out.write(("POST " + path + " HTTP/1.1\r\nHost: x\r\nAuthorization: " + ADMIN + "\r\nContent-Type: application/json\r\n"
                            + (chunked ? "Transfer-Encoding: chunked\r\n" : "Content-Length: " + bodyBytes + "\r\n") + "\r\n").getBytes(StandardCharsets.UTF_8));
                    byte[] piece = new byte[64 * 1024];
                    java.util.Arrays.fill(piece, (byte) ' ');
                    for (int sent = 0; sent < bodyBytes; sent += piece.length) {
                        if (chunked) {
                            out.write((Integer.toHexString(piece.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                        }
                        out.write(piece);
                        if (chunked) {
                            out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
                        }
                    }
                    out.flush();
                    String answer = new String(socket.getInputStream().readNBytes(4096), StandardCharsets.UTF_8);
                    assertThat(answer).as("%s, %s", path, chunked ? "chunked" : "with a length").startsWith("HTTP/1.1 413").contains("REQUEST_TOO_LARGE");
                }
            }
        }
    }

    @Test
    void aDeclaredLengthOverTheLimitIsRefusedBeforeItIsRead()
            throws Exception
    {
        String answer = raw("POST /api/v1/experiments HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50000000\r\n\r\n{", 5);
        assertThat(answer).startsWith("HTTP/1.1 413").contains("REQUEST_TOO_LARGE");
    }

    @Test
    void aContentLengthLongerThanTheBodyFailsFastWith400()
            throws Exception
    {
        long start = System.nanoTime();
        String answer = raw("POST /api/v1/experiments HTTP/1.1\r\nHost: x\r\nAuthorization: " + ADMIN + "\r\nContent-Type: application/json\r\n"
                + "Content-Length: 1000\r\n\r\n{\"spec\":", 10);
        assertThat(answer).startsWith("HTTP/1.1 400").contains("8 of the 1000 bytes");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    }

    /**
     * Bodies announced large and sent slowly (no token needed: bodies are read before authentication)
     * hold what they sent, not what they announced, and logins have budget of their own: 64 of them
     * announcing 1 MiB each once took the whole body budget, and every write, login included, got 503.
     */
    @Test
    void bodiesAnnouncedLargeAndTrickledDoNotShutOthersOut()
            throws Exception
    {
        List<Socket> trickles = new java.util.concurrent.CopyOnWriteArrayList<>();
        // a byte a second on each, so that none stalls (3 s) while the others write
        java.util.concurrent.ScheduledExecutorService trickler = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
        trickler.scheduleAtFixedRate(() -> trickles.forEach(socket -> {
            try {
                socket.getOutputStream().write(' ');
                socket.getOutputStream().flush();
            }
            catch (java.io.IOException ignored) {
                // refused and closed by the server: the assertions below say whether that was right
            }
        }), 1, 1, TimeUnit.SECONDS);
        try {
            for (int i = 0; i < 64; i++) {
                Socket socket = new Socket("127.0.0.1", scheduler.httpPort());
                socket.getOutputStream().write(("POST /api/v1/experiments HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        + "Content-Length: 1047552\r\n\r\n{").getBytes(StandardCharsets.UTF_8));
                socket.getOutputStream().flush();
                trickles.add(socket);
            }
            // every trickle is being read (each holds a server thread) before the others write
            Thread.sleep(1_500);
            HttpResponse<String> login = http.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/session")).timeout(Duration.ofSeconds(10))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"token\": \"" + TestingScheduler.ADMIN_TOKEN + "\"}")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(login.statusCode()).as(login.body()).isEqualTo(200);
            // another write's body is read too: its answer is about its content, not the server's budget
            HttpResponse<String> write = http.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/experiments")).timeout(Duration.ofSeconds(10))
                    .header("Content-Type", "application/json").header("Authorization", ADMIN)
                    .POST(HttpRequest.BodyPublishers.ofString("{\"spec\": {\"name\": \"\"}}")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(write.statusCode()).as(write.body()).isEqualTo(400);
            assertThat(write.body()).contains("INVALID_ARGUMENT").doesNotContain("too many request bodies");
        }
        finally {
            trickler.shutdownNow();
            for (Socket socket : trickles) {
                socket.close();
            }
        }
    }

    /** Each byte restarts the stall timer, so a body is also held to a rate: one that falls behind it is refused, not read for ever. */
    @Test
    void aBodyThatTricklesBelowTheMinimumRateIsRefused()
            throws Exception
    {
        long start = System.nanoTime();
        try (Socket socket = new Socket("127.0.0.1", scheduler.httpPort())) {
            socket.setSoTimeout(20_000);
            OutputStream out = socket.getOutputStream();
            out.write(("POST /api/v1/experiments HTTP/1.1\r\nHost: x\r\nAuthorization: " + ADMIN + "\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 1000\r\n\r\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            InputStream in = socket.getInputStream();
            String answer = null;
            for (int sent = 0; sent < 20 && answer == null; sent++) {
                try {
                    out.write(' ');
                    out.flush();
                }
                catch (java.io.IOException closed) {
                    // refused and closed: the answer is there to read
                }
                Thread.sleep(1_000);
                if (in.available() > 0) {
                    answer = new String(in.readNBytes(in.available()), StandardCharsets.UTF_8);
                }
            }
            assertThat(answer).isNotNull().startsWith("HTTP/1.1 408").contains("DEADLINE_EXCEEDED").contains("the request body arrives too slowly");
        }
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(12));
    }

    // 4. NUL and other characters PostgreSQL rejects

    @Test
    void nulInAnIdOrFilterIsRefusedAtTheEdgeNamingTheField()
            throws Exception
    {
        assertThatThrownBy(() -> experiments().get(GetExperimentRequest.newBuilder().setId("\u0000").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).startsWith("id must not contain control characters");
                });
        HttpResponse<String> list = get("/api/v1/experiments?project=%00");
        assertThat(list.statusCode()).isEqualTo(400);
        assertThat(list.body()).contains("project must not contain control characters");
        HttpResponse<String> one = get("/api/v1/experiments/%00");
        assertThat(one.statusCode()).isEqualTo(400);
        assertThat(one.body()).startsWith("{").doesNotContain("<h1>");
    }

    // 5. Dataset locations

    @Test
    void aDatasetLocationOutsideTheAllowedFoldersIsRefusedAtSubmit()
            throws Exception
    {
        Files.createSymbolicLink(datasets.resolve("escape"), Path.of("/etc"));
        for (String location : List.of("/root", "/etc", "/usr/share/datasets/fashion-mnist/../../../../etc", datasets + "/../x", datasets + "/images/",
                datasets + "/images\n/etc/passwd", datasets + "//images", datasets + "/escape", datasets + "/escape/ssl", "images")) {
            assertThatThrownBy(() -> client.submit(withLocation(location)), location)
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                        assertThat(e.getStatus().getDescription()).startsWith("dataset.location");
                    });
        }
        assertThat(scheduler.count("SELECT count(*) FROM experiments WHERE name LIKE 'data-%'")).isZero();
        assertThat(client.submit(withLocation(datasets.resolve("images").toString())).getExperiment().getId()).startsWith("exp-");
        assertThatThrownBy(() -> client.submit(withLocation("/etc")))
                .hasMessageContaining("put the data there, or ask an admin to add its folder with --dataset-root");
        client.submit(withLocation(datasets.resolve("images").toString()));
    }

    // 6. Metric streams of an ended experiment

    @Test
    void aStreamOpenedWhileTheExperimentRanIsRefusedOnceItIsCancelled()
            throws Exception
    {
        String id = client.submit(Specs.named("streaming", "default")).getExperiment().getId();
        String credential = scheduler.server().workerCredential(id);
        ManagedChannel channel = ManagedChannelBuilder.forTarget(scheduler.target()).usePlaintext().build();
        try {
            AtomicReference<Throwable> failure = new AtomicReference<>();
            CountDownLatch done = new CountDownLatch(1);
            StreamObserver<MetricBatch> stream = MetricsServiceGrpc.newStub(channel).report(new StreamObserver<>()
            {
                @Override
                public void onNext(ReportAck ack) {}

                @Override
                public void onError(Throwable t)
                {
                    failure.set(t);
                    done.countDown();
                }

                @Override
                public void onCompleted()
                {
                    done.countDown();
                }
            });
            stream.onNext(batch(id, credential, 1));
            await().atMost(Duration.ofSeconds(10)).until(() -> scheduler.count("SELECT count(*) FROM metrics WHERE experiment_id = '" + id + "'") == 1);
            client.cancel(id, "");
            stream.onNext(batch(id, credential, 2));
            stream.onNext(batch(id, credential, 3));
            stream.onCompleted();
            assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(failure.get()).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
                assertThat(e.getStatus().getDescription()).isEqualTo("the credential for experiment " + id + " expired when it ended (CANCELLED)");
            });
            assertThat(scheduler.count("SELECT count(*) FROM metrics WHERE experiment_id = '" + id + "'")).isEqualTo(1);
        }
        finally {
            channel.shutdownNow();
        }
    }

    // 7. Failed authentication is rate limited

    @Test
    void floodsOfBadTokensAreLimitedPerAddressAndSummarisedInTheAuditLog()
            throws Exception
    {
        // 0.5 a second (a burst of 5): the bucket gains one attempt only every 2 s, so the checks below
        // do not depend on how fast a loaded machine runs them (at 5 a second, 200 ms were enough to pass)
        try (TestingScheduler limited = TestingScheduler.withSecurity(security -> security.withFailedAuthenticationLimit(0.5))) {
            ManagedChannel channel = ManagedChannelBuilder.forTarget(limited.target()).usePlaintext().build();
            int unauthenticated = 0;
            int exhausted = 0;
            long start = System.nanoTime();
            try {
                for (int i = 0; i < 300; i++) {
                    Metadata headers = new Metadata();
                    headers.put(AuthInterceptor.AUTHORIZATION, "Bearer trn_guess" + i);
                    try {
                        ExperimentServiceGrpc.newBlockingStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
                                .get(GetExperimentRequest.newBuilder().setId("exp-0000000000").build());
                    }
                    catch (StatusRuntimeException e) {
                        switch (e.getStatus().getCode()) {
                            case UNAUTHENTICATED -> unauthenticated++;
                            case RESOURCE_EXHAUSTED -> exhausted++;
                            default -> throw e;
                        }
                    }
                }
            }
            finally {
                channel.shutdownNow();
            }
            // a burst of 10 seconds' worth (5) passes, then one every 2 s, and the rest is refused unasked
            long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start) + 1;
            assertThat(unauthenticated).isBetween(5, 5 + (int) (seconds / 2 + 1));
            assertThat(exhausted).isEqualTo(300 - unauthenticated);
            HttpResponse<String> overHttp = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + limited.httpPort() + "/api/v1/experiments"))
                    .header("Authorization", "Bearer trn_another_guess").build(), HttpResponse.BodyHandlers.ofString());
            assertThat(overHttp.statusCode()).isEqualTo(429);
            assertThat(overHttp.body()).contains("too many failed authentications from 127.0.0.1");
            // even the right token waits until the address slows down
            assertThat(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + limited.httpPort() + "/api/v1/experiments"))
                    .header("Authorization", ADMIN).build(), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(429);

            // closing writes the last summary and everything queued
            limited.server().close();
            assertThat(limited.count("SELECT count(*) FROM audit_events WHERE outcome = 'UNAUTHENTICATED'")).isEqualTo(unauthenticated);
            // one summary row per address and period (10 s) instead of a row per refused attempt
            assertThat(limited.count("SELECT count(*) FROM audit_events WHERE action = 'authenticate'")).isBetween(1L, 3L);
            assertThat(limited.count("SELECT sum(split_part(detail, ' ', 1)::bigint) FROM audit_events WHERE action = 'authenticate'")).isEqualTo(exhausted + 2);
        }
    }

    // 8. Cookie writes from other sites

    @Test
    void aCookieWriteNeedsASameOriginOriginAndJson()
            throws Exception
    {
        String cookie = "tranche_token=" + TestingScheduler.ADMIN_TOKEN;
        String body = "{\"spec\": " + com.google.protobuf.util.JsonFormat.printer().print(Specs.named("from-a-page", "default")) + "}";
        String origin = base;
        for (List<String> headers : List.of(
                List.of("Content-Type", "application/json"),
                List.of("Content-Type", "application/json", "Sec-Fetch-Site", "cross-site"),
                List.of("Content-Type", "application/json", "Referer", "http://evil.example/"),
                List.of("Content-Type", "application/json", "Origin", "http://evil.example"),
                List.of("Content-Type", "text/plain", "Origin", origin),
                List.of("Content-Type", "application/x-www-form-urlencoded", "Sec-Fetch-Site", "same-origin"))) {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/experiments")).header("Cookie", cookie)
                    .headers(headers.toArray(String[]::new)).POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).as(headers.toString()).isEqualTo(403);
        }
        assertThat(scheduler.count("SELECT count(*) FROM experiments WHERE name = 'from-a-page'")).isZero();
        HttpResponse<String> fromDashboard = http.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/experiments")).header("Cookie", cookie)
                .header("Content-Type", "application/json").header("Origin", origin).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(fromDashboard.statusCode()).isEqualTo(201);
    }

    // 10. Leaks in errors

    @Test
    void errorsNameTheRuleNeverInternalsAndEchoOnlyAShortPrefix()
            throws Exception
    {
        HttpResponse<String> badJson = http.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/experiments")).header("Authorization", ADMIN)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"spec\": {\"name\": ")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(badJson.statusCode()).isEqualTo(400);
        assertThat(badJson.body()).doesNotContain("Exception").doesNotContain("java.").doesNotContain("com.google");

        // bytes that are not a protobuf message at all
        MethodDescriptor<InputStream, InputStream> get = ExperimentServiceGrpc.getGetMethod().toBuilder(new RawMarshaller(), new RawMarshaller()).build();
        ManagedChannel channel = ManagedChannelBuilder.forTarget(scheduler.target()).usePlaintext().build();
        try {
            Metadata headers = new Metadata();
            headers.put(AuthInterceptor.AUTHORIZATION, ADMIN);
            ClientCall<InputStream, InputStream> call = channel.newCall(get, CallOptions.DEFAULT.withDeadlineAfter(5, TimeUnit.SECONDS));
            assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(MetadataUtils.newAttachHeadersInterceptor(headers).interceptCall(get, CallOptions.DEFAULT
                    .withDeadlineAfter(5, TimeUnit.SECONDS), channel), new ByteArrayInputStream(new byte[] {0x0a, (byte) 0xff, (byte) 0xff, 0x01, 0x02})))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                        assertThat(e.getStatus().getDescription()).contains("not a valid protobuf message");
                    });
            call.cancel("unused", null);
        }
        finally {
            channel.shutdownNow();
        }

        assertThatThrownBy(() -> AuthServiceGrpc.newBlockingStub(channel()).revokeToken(RevokeTokenRequest.newBuilder().setId("t".repeat(10_000)).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).startsWith("id must be at most 128 characters").hasSizeLessThan(200);
                });
    }

    private ExperimentServiceGrpc.ExperimentServiceBlockingStub experiments()
    {
        return ExperimentServiceGrpc.newBlockingStub(channel());
    }

    private io.grpc.Channel channel()
    {
        Metadata headers = new Metadata();
        headers.put(AuthInterceptor.AUTHORIZATION, ADMIN);
        ManagedChannel channel = ManagedChannelBuilder.forTarget(scheduler.target()).usePlaintext().build();
        return io.grpc.ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(headers));
    }

    private HttpResponse<String> get(String path)
            throws Exception
    {
        return http.send(HttpRequest.newBuilder(URI.create(base + path)).header("Authorization", ADMIN).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** Sends {@code request} as it is and returns what comes back until the server closes or {@code seconds} pass. */
    private String raw(String request, int seconds)
            throws Exception
    {
        try (Socket socket = new Socket("127.0.0.1", scheduler.httpPort())) {
            socket.setSoTimeout(seconds * 1000);
            OutputStream out = socket.getOutputStream();
            out.write(request.getBytes(StandardCharsets.UTF_8));
            out.flush();
            byte[] answer = socket.getInputStream().readNBytes(4096);
            return new String(answer, StandardCharsets.UTF_8);
        }
        catch (java.net.SocketTimeoutException e) {
            throw new AssertionError("no answer within " + seconds + " s", e);
        }
    }

    private static ExperimentSpec withLocation(String location)
    {
        ExperimentSpec spec = Specs.named("data-" + Math.abs(location.hashCode()), "default");
        return spec.toBuilder().setDataset(DatasetSpec.newBuilder().setKind("image-folder").setLocation(location)).build();
    }

    private static MetricBatch batch(String id, String credential, long step)
    {
        return MetricBatch.newBuilder().setExperimentId(id).setCredential(credential)
                .addPoints(MetricPoint.newBuilder().setName("loss").setEpoch(1).setStep(step).setValue(1.0)).build();
    }

    static long usedHeapAfterGc()
    {
        Runtime runtime = Runtime.getRuntime();
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return runtime.totalMemory() - runtime.freeMemory();
    }

    /** {@code length} bytes of '[', produced as they are read. */
    private static final class RepeatingStream
            extends InputStream
    {
        private long left;

        RepeatingStream(long length)
        {
            this.left = length;
        }

        @Override
        public int read()
        {
            return left-- > 0 ? '[' : -1;
        }

        @Override
        public int read(byte[] buffer, int offset, int length)
        {
            if (left <= 0) {
                return -1;
            }
            int n = (int) Math.min(length, left);
            java.util.Arrays.fill(buffer, offset, offset + n, (byte) '[');
            left -= n;
            return n;
        }
    }

    static final class RawMarshaller
            implements MethodDescriptor.Marshaller<InputStream>
    {
        @Override
        public InputStream stream(InputStream value)
        {
            return value;
        }

        @Override
        public InputStream parse(InputStream stream)
        {
            return stream;
        }
    }
}

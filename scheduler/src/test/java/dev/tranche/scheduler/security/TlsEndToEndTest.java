package dev.tranche.scheduler.security;

import com.google.gson.JsonParser;
import dev.tranche.cli.Tranche;
import dev.tranche.scheduler.testing.CliRun;
import dev.tranche.client.ConnectionSettings;
import dev.tranche.client.TrancheClient;
import dev.tranche.proto.v1.ListExperimentsRequest;
import dev.tranche.testing.TestCertificates;
import dev.tranche.scheduler.testing.TestingScheduler;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLHandshakeException;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A scheduler serving gRPC and HTTP over TLS with a self-signed certificate: clients that trust it
 * get in, plaintext and clients that trust another CA do not, and the dashboard's session cookie
 * is Secure.
 */
final class TlsEndToEndTest
{
    private static final Path EXAMPLE = Path.of("..", "docs", "examples", "fashion-mnist-lenet.yaml");
    private static final Duration TIMEOUT = Duration.ofSeconds(20);

    @TempDir
    static Path files;

    private static TestCertificates.Pair certificate;
    private static TestCertificates.Pair stranger;
    private static TestingScheduler scheduler;
    private static Path tokenFile;

    @BeforeAll
    static void start()
            throws IOException
    {
        certificate = TestCertificates.selfSigned(files.resolve("server"), "tranche-scheduler");
        stranger = TestCertificates.selfSigned(files.resolve("stranger"), "someone-else");
        scheduler = TestingScheduler.withTls(new SecuritySettings.TlsFiles(certificate.certificate(), certificate.privateKey()));
        tokenFile = Files.writeString(files.resolve("admin.token"), TestingScheduler.ADMIN_TOKEN);
    }

    @AfterAll
    static void stop()
    {
        if (scheduler != null) {
            scheduler.close();
        }
    }

    /** The CLI in-process, against the TLS scheduler, with no stored login. */
    private static CliRun tranche(String... args)
    {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--server", scheduler.target(), "--token-file", tokenFile.toString(), "--credentials", files.resolve("no-login").toString()));
        return CliRun.of(all);
    }

    @Test
    void cliWithTheCaCertificateSubmitsAndLists()
    {
        CliRun submit = tranche("submit", "-f", EXAMPLE.toString(), "--ca-cert", certificate.certificate().toString());
        assertThat(submit.code()).as(submit.err()).isZero();
        assertThat(submit.out()).startsWith("submitted exp-");
        String id = submit.out().substring("submitted ".length(), "submitted ".length() + 14);

        CliRun list = tranche("list", "--ca-cert", certificate.certificate().toString());
        assertThat(list.code()).as(list.err()).isZero();
        assertThat(list.out()).contains(id).contains("fashion-mnist-lenet");
    }

    @Test
    void cliInPlaintextIsRefused()
    {
        CliRun list = tranche("list");
        assertThat(list.code()).isEqualTo(Tranche.EXIT_UNREACHABLE);
        assertThat(list.out()).isEmpty();
        assertThat(list.err()).startsWith("error: cannot reach the Tranche server (")
                .contains("If it serves TLS, add --tls or --ca-cert FILE.");
    }

    @Test
    void cliThatDoesNotTrustTheCertificateSaysSo()
    {
        for (List<String> trust : List.of(List.of("--tls"), List.of("--ca-cert", stranger.certificate().toString()))) {
            List<String> args = new ArrayList<>(List.of("list"));
            args.addAll(trust);
            CliRun list = tranche(args.toArray(String[]::new));
            assertThat(list.code()).as(trust.toString()).isEqualTo(Tranche.EXIT_UNREACHABLE);
            assertThat(list.out()).isEmpty();
            assertThat(list.err()).as(trust.toString())
                    .startsWith("error: the TLS handshake with the Tranche server failed (")
                    .contains("unable to find valid certification path")
                    .contains("pass --ca-cert FILE (or set $TRANCHE_CA_CERT)");
        }
    }

    @Test
    void clientTrustingTheCertificateGetsIn()
    {
        try (TrancheClient client = scheduler.client(TestingScheduler.ADMIN_TOKEN)) {
            assertThat(client.whoAmI().getRole()).isEqualTo(dev.tranche.proto.v1.Role.ADMIN);
        }
    }

    @Test
    void clientTrustingAnotherCaIsRefused()
    {
        ConnectionSettings elsewhere = new ConnectionSettings(scheduler.target(), Optional.of(TestingScheduler.ADMIN_TOKEN), true,
                Optional.of(stranger.certificate()));
        try (TrancheClient client = TrancheClient.connect(elsewhere)) {
            assertThatThrownBy(() -> client.list(ListExperimentsRequest.getDefaultInstance()))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                        assertThat(causes(e)).anyMatch(SSLHandshakeException.class::isInstance).anyMatch(CertificateException.class::isInstance);
                    });
        }
    }

    @Test
    void aNameTheCertificateDoesNotListIsRefused()
            throws Exception
    {
        // what a client dialing scheduler.example.com would see: the certificate names only localhost and 127.0.0.1
        ManagedChannel channel = Grpc.newChannelBuilder(scheduler.target(),
                        TlsChannelCredentials.newBuilder().trustManager(certificate.certificate().toFile()).build())
                .overrideAuthority("scheduler.example.com")
                .build();
        try {
            assertThatThrownBy(() -> HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS).check(HealthCheckRequest.getDefaultInstance()))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                        assertThat(causes(e)).anySatisfy(cause -> assertThat(cause).isInstanceOf(CertificateException.class)
                                .hasMessageContaining("scheduler.example.com"));
                    });
        }
        finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void plaintextClientIsRefused()
    {
        try (TrancheClient client = TrancheClient.connect(ConnectionSettings.plaintext(scheduler.target()).withToken(TestingScheduler.ADMIN_TOKEN))) {
            assertThatThrownBy(() -> client.list(ListExperimentsRequest.getDefaultInstance()))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
        }
    }

    @Test
    void httpsServesHealthAndTheApi()
            throws Exception
    {
        HttpClient http = https();
        for (String host : List.of("127.0.0.1", "localhost")) {
            HttpResponse<String> health = http.send(get("https://" + host + ":" + scheduler.httpPort() + "/healthz").build(), HttpResponse.BodyHandlers.ofString());
            assertThat(health.statusCode()).as(host).isEqualTo(200);
        }
        HttpResponse<String> experiments = http.send(get(api("/api/v1/experiments")).header("Authorization", "Bearer " + TestingScheduler.ADMIN_TOKEN).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(experiments.statusCode()).as(experiments.body()).isEqualTo(200);
        assertThat(JsonParser.parseString(experiments.body()).isJsonObject()).isTrue();

        HttpResponse<String> anonymous = http.send(get(api("/api/v1/experiments")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(anonymous.statusCode()).isEqualTo(401);
    }

    @Test
    void plainHttpToTheHttpsPortFails()
    {
        HttpClient plain = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(TIMEOUT).build();
        HttpRequest health = get("http://127.0.0.1:" + scheduler.httpPort() + "/healthz").build();
        assertThatThrownBy(() -> plain.send(health, HttpResponse.BodyHandlers.ofString()))
                .isInstanceOf(IOException.class);
    }

    @Test
    void httpsClientTrustingAnotherCaIsRefused()
    {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).sslContext(stranger.clientContext()).connectTimeout(TIMEOUT).build();
        assertThatThrownBy(() -> http.send(get(api("/healthz")).build(), HttpResponse.BodyHandlers.ofString()))
                .isInstanceOf(SSLHandshakeException.class);
    }

    @Test
    void sessionCookieIsSecureOverHttps()
            throws Exception
    {
        HttpResponse<String> login = https().send(HttpRequest.newBuilder(URI.create(api("/api/v1/session"))).timeout(TIMEOUT)
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"token\": \"" + TestingScheduler.ADMIN_TOKEN + "\"}"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(login.statusCode()).as(login.body()).isEqualTo(200);
        List<String> cookies = login.headers().allValues("Set-Cookie");
        assertThat(cookies).singleElement().satisfies(cookie -> {
            assertThat(cookie).startsWith("tranche_token=" + TestingScheduler.ADMIN_TOKEN + ";");
            List<String> attributes = List.of(cookie.split(";\\s*"));
            assertThat(attributes).contains("Secure", "HttpOnly", "SameSite=Strict");
        });
    }

    private static HttpClient https()
    {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).sslContext(certificate.clientContext()).connectTimeout(TIMEOUT).build();
    }

    private static HttpRequest.Builder get(String url)
    {
        return HttpRequest.newBuilder(URI.create(url)).timeout(TIMEOUT).GET();
    }

    private static String api(String path)
    {
        return "https://127.0.0.1:" + scheduler.httpPort() + path;
    }

    private static List<Throwable> causes(Throwable e)
    {
        List<Throwable> all = new ArrayList<>();
        for (Throwable cause = e; cause != null && !all.contains(cause); cause = cause.getCause()) {
            all.add(cause);
        }
        return all;
    }
}

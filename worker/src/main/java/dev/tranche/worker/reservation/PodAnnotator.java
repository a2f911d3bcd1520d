package dev.tranche.worker.reservation;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * Sets one annotation on this pod through the Kubernetes API: a JSON merge patch with the pod's own
 * service account token, and nothing else (no client library: the reservation pod stays a small JVM,
 * and its Role allows only {@code patch} on pods).
 */
public final class PodAnnotator
{
    public static final Path SERVICE_ACCOUNT = Path.of("/var/run/secrets/kubernetes.io/serviceaccount");
    private static final String ANNOTATION = "[a-z0-9]([-a-z0-9.]*[a-z0-9])?/[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?";

    private final URI apiServer;
    private final String token;
    private final HttpClient http;

    public PodAnnotator(URI apiServer, String token, Optional<SSLContext> tls)
    {
        this.apiServer = requireNonNull(apiServer, "apiServer is null");
        this.token = requireNonNull(token, "token is null").strip();
        HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10));
        tls.ifPresent(builder::sslContext);
        this.http = builder.build();
    }

    /** As a pod sees the API server: KUBERNETES_SERVICE_HOST/PORT, with the service account's token and CA. */
    public static PodAnnotator inCluster(Map<String, String> environment, Path serviceAccount)
    {
        String host = environment.get("KUBERNETES_SERVICE_HOST");
        String port = environment.getOrDefault("KUBERNETES_SERVICE_PORT", "443");
        if (host == null || host.isBlank()) {
            throw new IllegalStateException("KUBERNETES_SERVICE_HOST is not set: gpu-reservation runs inside a Kubernetes pod");
        }
        try {
            String token = Files.readString(serviceAccount.resolve("token"));
            return new PodAnnotator(URI.create("https://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port), token,
                    Optional.of(trusting(serviceAccount.resolve("ca.crt"))));
        }
        catch (IOException e) {
            throw new UncheckedIOException("cannot read the pod's service account token in " + serviceAccount
                    + " (is automountServiceAccountToken off for the tranche-gpu-reservation service account?): " + e.getMessage(), e);
        }
    }

    /** Sets {@code key} to {@code value} on pod {@code name} of {@code namespace}. */
    public void annotate(String namespace, String name, String key, String value)
            throws IOException, InterruptedException
    {
        if (!key.matches(ANNOTATION)) {
            throw new IllegalArgumentException("not an annotation key: " + key);
        }
        String body = "{\"metadata\":{\"annotations\":{\"" + key + "\":\"" + escape(value) + "\"}}}";
        HttpRequest request = HttpRequest.newBuilder(apiServer.resolve("/api/v1/namespaces/" + namespace + "/pods/" + name))
                .timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/merge-patch+json")
                .header("Accept", "application/json")
                .method("PATCH", HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8))
                .build();
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() / 100 != 2) {
            String text = response.body().length() > 500 ? response.body().substring(0, 500) + "..." : response.body();
            throw new IOException("the API server refused to annotate pod " + namespace + "/" + name + ": HTTP " + response.statusCode()
                    + (response.statusCode() == 403 ? " (the tranche-gpu-reservation Role must allow patch on pods)" : "") + ": " + text);
        }
    }

    private static String escape(String value)
    {
        StringBuilder out = new StringBuilder();
        for (char c : value.toCharArray()) {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    }
                    else {
                        out.append(c);
                    }
                }
            }
        }
        return out.toString();
    }

    private static SSLContext trusting(Path caFile)
            throws IOException
    {
        try (InputStream in = Files.newInputStream(caFile)) {
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            int i = 0;
            for (Certificate certificate : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                store.setCertificateEntry("ca-" + i++, certificate);
            }
            TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trust.init(store);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, trust.getTrustManagers(), null);
            return context;
        }
        catch (GeneralSecurityException e) {
            throw new IOException("cannot trust the cluster CA in " + caFile + ": " + e.getMessage(), e);
        }
    }
}

package dev.tranche.worker.reservation;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The one call a reservation pod makes, against a loopback HTTP server standing in for the API server. */
final class PodAnnotatorTest
{
    private HttpServer server;
    private final List<String> requests = new CopyOnWriteArrayList<>();
    private final AtomicInteger status = new AtomicInteger(200);

    @BeforeEach
    void start()
            throws IOException
    {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            requests.add(exchange.getRequestMethod() + " " + exchange.getRequestURI() + " " + exchange.getRequestHeaders().getFirst("Content-Type") + " "
                    + exchange.getRequestHeaders().getFirst("Authorization") + " " + new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            byte[] body = (status.get() == 200 ? "{\"kind\":\"Pod\"}" : "{\"kind\":\"Status\",\"reason\":\"Forbidden\"}").getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(status.get(), body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
    }

    @AfterEach
    void stop()
    {
        server.stop(0);
    }

    @Test
    void patchesOnlyTheAnnotationOfItsOwnPodWithItsToken()
            throws IOException, InterruptedException
    {
        PodAnnotator annotator = new PodAnnotator(URI.create("http://127.0.0.1:" + server.getAddress().getPort()), "sa-token\n", Optional.empty());
        annotator.annotate("tranche", "tranche-gpu-gpu-a-3", "tranche.dev/gpu-device", "GPU-5f0d2c1e-93a4-4b8e-bb1c-2f6e0f1a7c44");
        assertThat(requests).containsExactly("PATCH /api/v1/namespaces/tranche/pods/tranche-gpu-gpu-a-3 application/merge-patch+json Bearer sa-token "
                + "{\"metadata\":{\"annotations\":{\"tranche.dev/gpu-device\":\"GPU-5f0d2c1e-93a4-4b8e-bb1c-2f6e0f1a7c44\"}}}");
    }

    @Test
    void aRefusalSaysWhatTheRoleMustAllow()
    {
        status.set(403);
        PodAnnotator annotator = new PodAnnotator(URI.create("http://127.0.0.1:" + server.getAddress().getPort()), "t", Optional.empty());
        assertThatThrownBy(() -> annotator.annotate("tranche", "tranche-gpu-gpu-a-3", "tranche.dev/gpu-device", "3"))
                .isInstanceOf(IOException.class)
                .hasMessageStartingWith("the API server refused to annotate pod tranche/tranche-gpu-gpu-a-3: HTTP 403 (the tranche-gpu-reservation Role must allow patch on pods)");
    }
}

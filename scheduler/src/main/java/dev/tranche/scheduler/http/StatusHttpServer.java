package dev.tranche.scheduler.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import javax.sql.DataSource;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import static java.util.Objects.requireNonNull;

/**
 * The scheduler's HTTP side: {@code /healthz} (is the database reachable?) for probes and load
 * balancers, and the dashboard's static pages from the web-ui module.
 */
public final class StatusHttpServer
        implements AutoCloseable
{
    private static final String WEB_ROOT = "/tranche-web/";

    private final HttpServer server;
    private final ExecutorService executor;
    private final DataSource dataSource;

    public StatusHttpServer(String bindAddress, int port, DataSource dataSource)
    {
        this.dataSource = requireNonNull(dataSource, "dataSource is null");
        try {
            this.server = HttpServer.create(new InetSocketAddress(bindAddress, port), 64);
        }
        catch (IOException e) {
            throw new UncheckedIOException("cannot listen for HTTP on " + bindAddress + ":" + port + " (is the port taken? use --http-port)", e);
        }
        this.executor = Executors.newFixedThreadPool(2, runnable -> {
            Thread thread = new Thread(runnable, "tranche-http");
            thread.setDaemon(true);
            return thread;
        });
        server.setExecutor(executor);
        server.createContext("/healthz", this::health);
        server.createContext("/", this::staticFile);
        server.start();
    }

    public int port()
    {
        return server.getAddress().getPort();
    }

    private void health(HttpExchange exchange)
            throws IOException
    {
        boolean healthy;
        try (Connection connection = dataSource.getConnection()) {
            healthy = connection.isValid(2);
        }
        catch (SQLException e) {
            healthy = false;
        }
        respond(exchange, healthy ? 200 : 503, "text/plain; charset=utf-8", (healthy ? "ok\n" : "database unreachable\n").getBytes(StandardCharsets.UTF_8));
    }

    private void staticFile(HttpExchange exchange)
            throws IOException
    {
        String path = exchange.getRequestURI().getPath();
        if (path.equals("/")) {
            path = "/index.html";
        }
        if (!exchange.getRequestMethod().equals("GET") || path.contains("..") || !path.matches("/[A-Za-z0-9._/-]+")) {
            respond(exchange, 404, "text/plain; charset=utf-8", "not found\n".getBytes(StandardCharsets.UTF_8));
            return;
        }
        try (InputStream resource = StatusHttpServer.class.getResourceAsStream(WEB_ROOT + path.substring(1))) {
            if (resource == null) {
                respond(exchange, 404, "text/plain; charset=utf-8", "not found\n".getBytes(StandardCharsets.UTF_8));
                return;
            }
            respond(exchange, 200, contentType(path), resource.readAllBytes());
        }
    }

    private static String contentType(String path)
    {
        if (path.endsWith(".html")) {
            return "text/html; charset=utf-8";
        }
        if (path.endsWith(".css")) {
            return "text/css; charset=utf-8";
        }
        if (path.endsWith(".js")) {
            return "text/javascript; charset=utf-8";
        }
        return "application/octet-stream";
    }

    private static void respond(HttpExchange exchange, int status, String contentType, byte[] body)
            throws IOException
    {
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
        exchange.sendResponseHeaders(status, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    @Override
    public void close()
    {
        server.stop(0);
        executor.shutdownNow();
    }
}

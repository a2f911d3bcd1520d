package dev.tranche.scheduler.http;

import dev.tranche.scheduler.security.AuditLog;
import dev.tranche.scheduler.security.FailedAuthentications;
import dev.tranche.scheduler.security.TlsMaterial;
import dev.tranche.scheduler.security.TokenService;
import dev.tranche.scheduler.telemetry.SchedulerMetrics;
import io.grpc.Channel;
import io.javalin.Javalin;
import io.javalin.http.staticfiles.Location;

import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

import static java.util.Objects.requireNonNull;

/**
 * The scheduler's HTTP side, put together from its parts: the dashboard's static pages, request
 * bodies read and bounded first ({@link RequestBodies}), then who is calling ({@link SessionRoutes}),
 * probes and Prometheus ({@link HealthRoutes}), the JSON API that calls the gRPC services in-process
 * ({@link Gateway}), Server-Sent Events ({@link EventRoutes}), and one error mapping for all of them
 * ({@link HttpErrors}). Constructing it listens on nothing: {@link #start()} does.
 */
public final class HttpApi
        implements AutoCloseable
{
    private final Javalin app;
    private final String bindAddress;
    private final int port;
    private final boolean tls;
    private final List<String> registeredRoutes = new CopyOnWriteArrayList<>();

    public HttpApi(String bindAddress, int port, Optional<TlsMaterial> tls, Channel internal, Supplier<Optional<String>> databaseUnavailable,
            SchedulerMetrics telemetry, TokenService tokens, AuditLog audit, FailedAuthentications failures, Clock clock, Path home)
    {
        this.bindAddress = requireNonNull(bindAddress, "bindAddress is null");
        this.port = port;
        this.tls = tls.isPresent();
        SessionRoutes sessions = new SessionRoutes(internal, tokens, audit, failures, clock, this.tls);
        Gateway gateway = new Gateway(internal, ExportFiles.in(home));
        this.app = Javalin.create(config -> {
            config.startup.showJavalinBanner = false;
            config.jetty.modifyServer(server -> server.setErrorHandler(new JsonErrorHandler()));
            config.http.maxRequestSize = RequestBodies.MAX_REQUEST_BYTES;
            config.staticFiles.add(files -> {
                files.hostedPath = "/";
                files.directory = "/tranche-web";
                files.location = Location.CLASSPATH;
            });
            config.staticFiles.enableWebjars();
            config.events.handlerAdded(handler -> {
                if (handler.getHttpMethod().isHttpMethod()) {
                    registeredRoutes.add(handler.getHttpMethod().name() + " " + handler.getPath());
                }
            });
            tls.ifPresent(material -> config.jetty.addConnector((server, httpConfiguration) -> TlsConnector.create(server, httpConfiguration, material, bindAddress, port)));
            // the order is the order filters run in: bodies are read (and bounded) before anything else, token or not
            new RequestBodies().addTo(config.routes);
            sessions.addTo(config.routes);
            new HealthRoutes(databaseUnavailable, telemetry, sessions).addTo(config.routes);
            gateway.addTo(config.routes);
            new EventRoutes(internal, gateway).addTo(config.routes);
            HttpErrors.addTo(config.routes);
        });
    }

    /** Starts Jetty: listens on the address and port (HTTPS when there is TLS material). */
    public HttpApi start()
    {
        try {
            if (tls) {
                app.start();
            }
            else {
                app.start(bindAddress, port);
            }
        }
        catch (RuntimeException e) {
            throw new IllegalStateException("cannot listen for HTTP on " + bindAddress + ":" + port + " (is the port taken? use --http-port): " + e.getMessage(), e);
        }
        return this;
    }

    public int port()
    {
        return app.port();
    }

    /** Every route registered with the server, as "METHOD /path" (the authorization matrix test covers each). */
    public List<String> registeredRoutes()
    {
        return List.copyOf(registeredRoutes);
    }

    @Override
    public void close()
    {
        app.stop();
    }
}

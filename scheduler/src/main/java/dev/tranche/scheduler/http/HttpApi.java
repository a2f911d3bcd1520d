package dev.tranche.scheduler.http;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import dev.tranche.proto.v1.AdminServiceGrpc;
import dev.tranche.proto.v1.CancelExperimentRequest;
import dev.tranche.proto.v1.ExperimentEvent;
import dev.tranche.proto.v1.ExperimentServiceGrpc;
import dev.tranche.proto.v1.ExperimentState;
import dev.tranche.proto.v1.GetExperimentRequest;
import dev.tranche.proto.v1.GetLogsRequest;
import dev.tranche.proto.v1.GetMetricsRequest;
import dev.tranche.proto.v1.ListExperimentsRequest;
import dev.tranche.proto.v1.ListExperimentsResponse;
import dev.tranche.proto.v1.ListNodesRequest;
import dev.tranche.proto.v1.ListProjectsRequest;
import dev.tranche.proto.v1.ListQuotasRequest;
import dev.tranche.proto.v1.MetricsServiceGrpc;
import dev.tranche.proto.v1.Quota;
import dev.tranche.proto.v1.SetQuotaRequest;
import dev.tranche.proto.v1.SubmitExperimentRequest;
import dev.tranche.proto.v1.WatchExperimentsRequest;
import dev.tranche.scheduler.errors.StoreException;
import dev.tranche.scheduler.store.MetricsRepository;
import dev.tranche.scheduler.telemetry.SchedulerMetrics;
import io.grpc.Channel;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.javalin.Javalin;

import io.javalin.http.Cookie;
import io.javalin.http.HandlerType;
import io.javalin.http.SameSite;
import io.javalin.http.staticfiles.Location;
import io.grpc.ClientInterceptor;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import dev.tranche.proto.v1.AuthServiceGrpc;
import dev.tranche.proto.v1.WhoAmIRequest;
import dev.tranche.scheduler.security.AuditEntry;
import dev.tranche.scheduler.security.AuditLog;
import dev.tranche.scheduler.security.AuthInterceptor;
import dev.tranche.scheduler.security.AuthenticationException;
import dev.tranche.scheduler.security.Principal;
import dev.tranche.scheduler.security.TlsMaterial;
import dev.tranche.scheduler.security.TokenService;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;


import java.time.Clock;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import java.util.function.Supplier;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/**
 * The scheduler's HTTP side: the dashboard's static pages, a JSON API under {@code /api/v1/} that
 * calls the gRPC services in-process (the same validation and the same messages as gRPC), Server-Sent
 * Events for live changes, {@code /metrics} for Prometheus and {@code /healthz} for probes.
 */
public final class HttpApi
        implements AutoCloseable
{
    private static final Logger log = LoggerFactory.getLogger(HttpApi.class);
    private static final long MAX_REQUEST_BYTES = 1024 * 1024;
    private static final JsonFormat.Printer JSON = JsonFormat.printer().preservingProtoFieldNames().alwaysPrintFieldsWithNoPresence().omittingInsignificantWhitespace();

    static final String SESSION_COOKIE = "tranche_token";
    /** Reachable without a token: probes, and the login page with what it needs. */
    private static final Set<String> PUBLIC_PATHS = Set.of("/healthz", "/login.html", "/style.css", "/favicon.ico");
    private static final String SESSION_PATH = "/api/v1/session";

    private final Javalin app;
    private final Channel internal;
    private final TokenService tokens;
    private final AuditLog audit;
    private final Clock clock;
    private final boolean tls;
    private final List<String> registeredRoutes = new CopyOnWriteArrayList<>();
    private final Supplier<Optional<String>> databaseUnavailable;
    private final MetricsRepository metrics;
    private final SchedulerMetrics telemetry;

    public HttpApi(String bindAddress, int port, Optional<TlsMaterial> tls, Channel internal, Supplier<Optional<String>> databaseUnavailable, MetricsRepository metrics,
            SchedulerMetrics telemetry, TokenService tokens, AuditLog audit, Clock clock)
    {
        this.tokens = requireNonNull(tokens, "tokens is null");
        this.audit = requireNonNull(audit, "audit is null");
        this.clock = requireNonNull(clock, "clock is null");
        this.tls = tls.isPresent();
        this.internal = requireNonNull(internal, "internal is null");
        this.databaseUnavailable = requireNonNull(databaseUnavailable, "databaseUnavailable is null");
        this.metrics = requireNonNull(metrics, "metrics is null");
        this.telemetry = requireNonNull(telemetry, "telemetry is null");
        this.app = Javalin.create(config -> {
            config.showJavalinBanner = false;
            config.http.maxRequestSize = MAX_REQUEST_BYTES;
            config.staticFiles.add(files -> {
                files.hostedPath = "/";
                files.directory = "/tranche-web";
                files.location = Location.CLASSPATH;
            });
            config.staticFiles.enableWebjars();
            config.events(events -> events.handlerAdded(handler -> {
                if (handler.getHttpMethod().isHttpMethod()) {
                    registeredRoutes.add(handler.getHttpMethod() + " " + handler.getPath());
                }
            }));
            tls.ifPresent(material -> config.jetty.addConnector((server, httpConfiguration) -> httpsConnector(server, httpConfiguration, material, bindAddress, port)));
        });
        routes();
        try {
            if (tls.isPresent()) {
                app.start();
            }
            else {
                app.start(bindAddress, port);
            }
        }
        catch (RuntimeException e) {
            throw new IllegalStateException("cannot listen for HTTP on " + bindAddress + ":" + port + " (is the port taken? use --http-port): " + e.getMessage(), e);
        }
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

    private void routes()
    {
        app.before(this::authenticate);
        app.get("/healthz", this::health);
        app.get("/metrics", ctx -> {
            requireAdmin(ctx);
            ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(telemetry.scrape());
        });
        app.post(SESSION_PATH, this::login);
        app.get(SESSION_PATH, ctx -> json(ctx, AuthServiceGrpc.newBlockingStub(internal).withInterceptors(forward(ctx))
                .withDeadlineAfter(30, TimeUnit.SECONDS).whoAmI(WhoAmIRequest.getDefaultInstance())));
        app.delete(SESSION_PATH, ctx -> {
            ctx.cookie(sessionCookie("", 0));
            ctx.status(204);
        });

        app.get("/api/v1/experiments", this::listExperiments);
        app.post("/api/v1/experiments", ctx -> {
            SubmitExperimentRequest.Builder request = SubmitExperimentRequest.newBuilder();
            parse(ctx, request);
            ctx.status(201);
            json(ctx, experiments(ctx).submit(request.build()));
        });
        app.get("/api/v1/experiments/{id}", ctx -> json(ctx, experiments(ctx).get(GetExperimentRequest.newBuilder().setId(ctx.pathParam("id")).build())));
        app.post("/api/v1/experiments/{id}/cancel", ctx -> {
            CancelExperimentRequest.Builder request = CancelExperimentRequest.newBuilder();
            if (!ctx.body().isBlank()) {
                parse(ctx, request);
            }
            json(ctx, experiments(ctx).cancel(request.setId(ctx.pathParam("id")).build()));
        });
        app.get("/api/v1/experiments/{id}/metrics", ctx -> {
            GetMetricsRequest.Builder request = GetMetricsRequest.newBuilder().setExperimentId(ctx.pathParam("id"));
            String names = ctx.queryParam("names");
            if (names != null && !names.isBlank()) {
                request.addAllNames(List.of(names.split(",")));
            }
            request.setDownsampleTo(intParam(ctx, "downsample", 2000));
            request.setAfterStep(longParam(ctx, "after_step", -1));
            json(ctx, MetricsServiceGrpc.newBlockingStub(internal).withInterceptors(forward(ctx)).withDeadlineAfter(30, TimeUnit.SECONDS).get(request.build()));
        });
        app.get("/api/v1/experiments/{id}/logs", ctx -> json(ctx, experiments(ctx).getLogs(GetLogsRequest.newBuilder()
                .setId(ctx.pathParam("id")).setRank(intParam(ctx, "rank", 0)).setTailLines(intParam(ctx, "tail", 100)).build())));
        app.get("/api/v1/projects", ctx -> json(ctx, admin(ctx).listProjects(ListProjectsRequest.getDefaultInstance())));
        app.get("/api/v1/quotas", ctx -> json(ctx, admin(ctx).listQuotas(ListQuotasRequest.getDefaultInstance())));
        app.put("/api/v1/projects/{name}/quota", ctx -> {
            Quota.Builder quota = Quota.newBuilder();
            parse(ctx, quota);
            json(ctx, admin(ctx).setQuota(SetQuotaRequest.newBuilder().setProject(ctx.pathParam("name")).setQuota(quota).build()));
        });
        app.get("/api/v1/nodes", ctx -> json(ctx, admin(ctx).listNodes(ListNodesRequest.getDefaultInstance())));
        // an event stream answers 200 before its first event: ask the service first, so a caller who
        // may not watch the project gets a 403 instead of a stream that closes at once
        app.before("/api/v1/events", ctx -> {
            if (ctx.attribute("tranche.token") != null) {
                experiments(ctx).list(ListExperimentsRequest.newBuilder().setProject(orEmpty(ctx.queryParam("project"))).setPageSize(1).build());
            }
        });
        app.sse("/api/v1/events", client -> {
            client.keepAlive();
            WatchExperimentsRequest request = WatchExperimentsRequest.newBuilder()
                    .setProject(orEmpty(client.ctx().queryParam("project")))
                    .setSkipCurrent("true".equals(client.ctx().queryParam("skip_current")))
                    .build();
            Context.CancellableContext call = Context.current().withCancellation();
            client.onClose(() -> call.cancel(null));
            ClientInterceptor caller = forward(client.ctx());
            call.run(() -> ExperimentServiceGrpc.newStub(internal).withInterceptors(caller).watch(request, new StreamObserver<>()
            {
                @Override
                public void onNext(ExperimentEvent event)
                {
                    client.sendEvent("experiment", print(event));
                }

                @Override
                public void onError(Throwable t)
                {
                    client.close();
                }

                @Override
                public void onCompleted()
                {
                    client.close();
                }
            }));
        });

        app.exception(StatusRuntimeException.class, (e, ctx) -> error(ctx, e.getStatus()));
        app.exception(StoreException.class, (e, ctx) -> error(ctx, e.unavailable()
                .map(reason -> Status.UNAVAILABLE.withDescription(StoreException.unavailableMessage(reason)))
                .orElseGet(() -> {
                    log.error("internal error", e);
                    return Status.INTERNAL.withDescription("internal error; the scheduler's log has the details");
                })));
        app.exception(BadRequest.class, (e, ctx) -> error(ctx, Status.INVALID_ARGUMENT.withDescription(e.getMessage())));
        app.exception(Refused.class, (e, ctx) -> error(ctx, e.status()));
        app.error(404, ctx -> {
            if (ctx.path().startsWith("/api/")) {
                error(ctx, Status.NOT_FOUND.withDescription("no such API route: " + ctx.method() + " " + ctx.path()));
            }
        });
    }

    private void listExperiments(io.javalin.http.Context ctx)
    {
        ListExperimentsRequest.Builder request = ListExperimentsRequest.newBuilder()
                .setProject(orEmpty(ctx.queryParam("project")))
                .setPageSize(intParam(ctx, "page_size", 50))
                .setPageToken(orEmpty(ctx.queryParam("page_token")));
        String states = ctx.queryParam("state");
        if (states != null && !states.isBlank()) {
            for (String state : states.split(",")) {
                try {
                    request.addStates(ExperimentState.valueOf(state.strip().toUpperCase(Locale.ROOT)));
                }
                catch (IllegalArgumentException e) {
                    throw new BadRequest("state must be one of pending, scheduled, running, succeeded, failed, cancelled, preempted: got \"" + state + "\"");
                }
            }
        }
        ListExperimentsResponse response = experiments(ctx).list(request.build());
        // progress: the newest epoch each experiment on the page has reported
        List<String> ids = new ArrayList<>();
        response.getExperimentsList().forEach(experiment -> ids.add(experiment.getId()));
        Map<String, Integer> epochs = metrics.latestEpochs(ids);
        JsonObject body = JsonParser.parseString(print(response)).getAsJsonObject();
        JsonObject progress = new JsonObject();
        epochs.forEach(progress::addProperty);
        body.add("epochs_reported", progress);
        ctx.contentType("application/json").result(body.toString());
    }

    /** What the database supervisor last saw (it checks every half second): answers at once, even while the database hangs. */
    private void health(io.javalin.http.Context ctx)
    {
        Optional<String> problem = databaseUnavailable.get();
        ctx.status(problem.isEmpty() ? 200 : 503).contentType("text/plain; charset=utf-8")
                .result(problem.map(reason -> "database unavailable: " + reason + "\n").orElse("ok\n"));
    }

    private ExperimentServiceGrpc.ExperimentServiceBlockingStub experiments(io.javalin.http.Context ctx)
    {
        return ExperimentServiceGrpc.newBlockingStub(internal).withInterceptors(forward(ctx)).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    private AdminServiceGrpc.AdminServiceBlockingStub admin(io.javalin.http.Context ctx)
    {
        return AdminServiceGrpc.newBlockingStub(internal).withInterceptors(forward(ctx)).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    /**
     * Every request but the public ones needs a token: "Authorization: Bearer" (scripts) or the
     * session cookie set at login (the dashboard). What the token may do is decided by the gRPC
     * services the API calls with it; here only its validity, and the cookie's origin, are checked.
     */
    private void authenticate(io.javalin.http.Context ctx)
    {
        if (PUBLIC_PATHS.contains(ctx.path()) || ctx.path().equals(SESSION_PATH) && ctx.method() != HandlerType.GET) {
            // logging in and out need no session; who-am-I (GET) does
            return;
        }
        String header = ctx.header("Authorization");
        boolean fromCookie = header == null || header.isBlank();
        String token = fromCookie ? ctx.cookie(SESSION_COOKIE) : header.strip().replaceFirst("(?i)^Bearer\\s+", "");
        if (token == null || token.isBlank()) {
            if (ctx.method() == HandlerType.GET && (ctx.path().equals("/") || ctx.path().endsWith(".html"))) {
                // a person at the dashboard: off to the login page
                ctx.redirect("/login.html");
                ctx.skipRemainingHandlers();
                return;
            }
            throw refuse(ctx, "anonymous", Status.UNAUTHENTICATED.withDescription("a token is required: \"Authorization: Bearer <token>\", or log in at /login.html"));
        }
        Principal principal;
        try {
            principal = tokens.authenticate(token);
        }
        catch (AuthenticationException e) {
            if (fromCookie) {
                ctx.cookie(sessionCookie("", 0));
            }
            throw refuse(ctx, "anonymous", Status.UNAUTHENTICATED.withDescription(e.getMessage()));
        }
        if (principal instanceof Principal.Worker worker) {
            throw refuse(ctx, worker.describe(), Status.PERMISSION_DENIED.withDescription("a worker credential may only report metrics"));
        }
        if (fromCookie && ctx.method() != HandlerType.GET && !sameOrigin(ctx)) {
            throw refuse(ctx, principal.describe(), Status.PERMISSION_DENIED.withDescription("cross-site request refused (Origin " + ctx.header("Origin") + ")"));
        }
        ctx.attribute("tranche.principal", principal);
        ctx.attribute("tranche.token", token);
    }

    private void requireAdmin(io.javalin.http.Context ctx)
    {
        Principal principal = ctx.attribute("tranche.principal");
        if (principal == null || !principal.isAdmin()) {
            throw refuse(ctx, principal == null ? "anonymous" : principal.describe(),
                    Status.PERMISSION_DENIED.withDescription(ctx.path() + " is for admins"));
        }
    }

    /** POST /api/v1/session {"token": "..."}: checks the token and keeps it in an HttpOnly cookie. */
    private void login(io.javalin.http.Context ctx)
    {
        JsonObject body;
        try {
            body = JsonParser.parseString(ctx.body()).getAsJsonObject();
        }
        catch (RuntimeException e) {
            throw new BadRequest("the request body must be {\"token\": \"...\"}");
        }
        String token = body.has("token") && body.get("token").isJsonPrimitive() ? body.get("token").getAsString().strip() : "";
        Principal principal;
        try {
            principal = tokens.authenticate(token);
        }
        catch (AuthenticationException e) {
            throw refuse(ctx, "anonymous", Status.UNAUTHENTICATED.withDescription(e.getMessage()));
        }
        if (!(principal instanceof Principal.User user)) {
            throw refuse(ctx, principal.describe(), Status.PERMISSION_DENIED.withDescription("a worker credential cannot log in"));
        }
        ctx.cookie(sessionCookie(token, -1));
        JsonObject who = new JsonObject();
        who.addProperty("subject", user.subject());
        who.addProperty("role", user.role().name());
        ctx.contentType("application/json").result(who.toString());
    }

    private Cookie sessionCookie(String value, int maxAge)
    {
        Cookie cookie = new Cookie(SESSION_COOKIE, value, "/", maxAge, tls, 0, true, null, null, SameSite.STRICT);
        return cookie;
    }

    private static boolean sameOrigin(io.javalin.http.Context ctx)
    {
        String origin = ctx.header("Origin");
        if (origin == null) {
            return true;
        }
        String host = ctx.header("Host");
        return host != null && (origin.equals("http://" + host) || origin.equals("https://" + host));
    }

    private Refused refuse(io.javalin.http.Context ctx, String actor, Status status)
    {
        audit.record(new AuditEntry(0, clock.instant(), actor, ctx.method() + " " + ctx.path(), "", status.getCode().name(),
                status.getDescription(), ctx.ip()));
        return new Refused(status);
    }

    /** Calls the services as the HTTP caller: their token, and their address for the audit log. */
    private static ClientInterceptor forward(io.javalin.http.Context ctx)
    {
        Metadata headers = new Metadata();
        String token = ctx.attribute("tranche.token");
        if (token != null) {
            headers.put(AuthInterceptor.AUTHORIZATION, "Bearer " + token);
        }
        headers.put(AuthInterceptor.FORWARDED_FOR, ctx.ip());
        return MetadataUtils.newAttachHeadersInterceptor(headers);
    }

    private static ServerConnector httpsConnector(Server server, HttpConfiguration httpConfiguration, TlsMaterial material, String host, int port)
    {
        SslContextFactory.Server ssl = new SslContextFactory.Server();
        ssl.setKeyStore(material.keyStore());
        ssl.setKeyStorePassword(material.keyStorePassword());
        HttpConfiguration https = new HttpConfiguration(httpConfiguration);
        SecureRequestCustomizer secure = new SecureRequestCustomizer();
        // clients reach the scheduler by IP as often as by name
        secure.setSniHostCheck(false);
        https.addCustomizer(secure);
        ServerConnector connector = new ServerConnector(server, new SslConnectionFactory(ssl, "http/1.1"), new HttpConnectionFactory(https));
        connector.setHost(host);
        connector.setPort(port);
        return connector;
    }

    private static void parse(io.javalin.http.Context ctx, Message.Builder builder)
    {
        try {
            JsonFormat.parser().merge(ctx.body(), builder);
        }
        catch (InvalidProtocolBufferException | RuntimeException e) {
            throw new BadRequest("the request body is not a valid " + builder.getDescriptorForType().getName() + " in JSON: "
                    + (e.getMessage() == null ? e.toString() : e.getMessage().replace("tranche.v1.", "").lines().findFirst().orElse("")
                    .replace("com.google.gson.stream.MalformedJsonException: ", "")));
        }
    }

    private static void json(io.javalin.http.Context ctx, MessageOrBuilder message)
    {
        ctx.contentType("application/json").result(print(message));
    }

    private static String print(MessageOrBuilder message)
    {
        try {
            return JSON.print(message);
        }
        catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void error(io.javalin.http.Context ctx, Status status)
    {
        JsonObject body = new JsonObject();
        body.addProperty("code", status.getCode().name());
        body.addProperty("message", status.getDescription() == null ? status.getCode().name() : status.getDescription());
        ctx.status(httpStatus(status.getCode())).contentType("application/json").result(body.toString());
    }

    static int httpStatus(Status.Code code)
    {
        return switch (code) {
            case INVALID_ARGUMENT, OUT_OF_RANGE -> 400;
            case UNAUTHENTICATED -> 401;
            case PERMISSION_DENIED -> 403;
            case NOT_FOUND -> 404;
            case ALREADY_EXISTS, FAILED_PRECONDITION, ABORTED -> 409;
            case RESOURCE_EXHAUSTED -> 429;
            case UNIMPLEMENTED -> 501;
            case UNAVAILABLE -> 503;
            case DEADLINE_EXCEEDED -> 504;
            default -> 500;
        };
    }

    private static int intParam(io.javalin.http.Context ctx, String name, int fallback)
    {
        return (int) longParam(ctx, name, fallback);
    }

    private static long longParam(io.javalin.http.Context ctx, String name, long fallback)
    {
        String value = ctx.queryParam(name);
        if (value == null || value.isBlank()) {
            return fallback;
        }
        try {
            long parsed = Long.parseLong(value.strip());
            if (parsed < Integer.MIN_VALUE || parsed > Integer.MAX_VALUE && !name.equals("after_step")) {
                throw new NumberFormatException();
            }
            return parsed;
        }
        catch (NumberFormatException e) {
            throw new BadRequest(name + " must be a whole number: got \"" + value + "\"");
        }
    }

    private static String orEmpty(String value)
    {
        return value == null ? "" : value;
    }

    /** A request refused by authentication or authorization: 401 or 403 with the reason. */
    private static final class Refused
            extends RuntimeException
    {
        private final Status status;

        Refused(Status status)
        {
            super(status.getDescription());
            this.status = status;
        }

        Status status()
        {
            return status;
        }
    }

    /** A malformed HTTP request (bad JSON, a non-number where a number belongs): 400 with the reason. */
    private static final class BadRequest
            extends RuntimeException
    {
        BadRequest(String message)
        {
            super(message);
        }
    }

    @Override
    public void close()
    {
        app.stop();
    }
}

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
import dev.tranche.scheduler.security.FailedAuthentications;
import dev.tranche.scheduler.service.RequestGuard;
import dev.tranche.scheduler.security.Principal;
import dev.tranche.scheduler.security.TlsMaterial;
import dev.tranche.scheduler.security.TokenService;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;


import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
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
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/**
 * The scheduler's HTTP side: the dashboard's static pages, a JSON API under {@code /api/v1/} that
 * calls the gRPC services in-process (the same validation and the same messages as gRPC), Server-Sent
 * Events for live changes, {@code /metrics} for Prometheus, {@code /livez} and {@code /readyz} for probes.
 */
public final class HttpApi
        implements AutoCloseable
{
    private static final Logger log = LoggerFactory.getLogger(HttpApi.class);
    private static final long MAX_REQUEST_BYTES = 1024 * 1024;
    /** A login body holds one token. */
    private static final long MAX_LOGIN_BYTES = 8 * 1024;
    /** A body that stops arriving for this long is refused, rather than holding a thread for the idle timeout. */
    private static final long BODY_STALL_MILLIS = 3_000;
    /** Request bodies held in memory at once, all requests together: the heap they can take is bounded by this. */
    static final int BODY_BUDGET_KIB = 64 * 1024;
    private static final String BODY = "tranche.body";
    private static final int MAX_JSON_NESTING = 32;
    private static final Set<HandlerType> WRITES = Set.of(HandlerType.POST, HandlerType.PUT, HandlerType.PATCH, HandlerType.DELETE);
    private static final JsonFormat.Printer JSON = JsonFormat.printer().preservingProtoFieldNames().alwaysPrintFieldsWithNoPresence().omittingInsignificantWhitespace();

    static final String SESSION_COOKIE = "tranche_token";
    /** Reachable without a token: probes, and the login page with what it needs. */
    private static final Set<String> PUBLIC_PATHS = Set.of("/livez", "/readyz", "/healthz", "/login.html", "/style.css", "/favicon.ico");
    private static final String SESSION_PATH = "/api/v1/session";

    private final Javalin app;
    private final Channel internal;
    private final TokenService tokens;
    private final AuditLog audit;
    private final FailedAuthentications failures;
    private final Semaphore bodyBudget = new Semaphore(BODY_BUDGET_KIB);
    private final Clock clock;
    private final boolean tls;
    private final List<String> registeredRoutes = new CopyOnWriteArrayList<>();
    private final Supplier<Optional<String>> databaseUnavailable;
    private final MetricsRepository metrics;
    private final SchedulerMetrics telemetry;

    public HttpApi(String bindAddress, int port, Optional<TlsMaterial> tls, Channel internal, Supplier<Optional<String>> databaseUnavailable, MetricsRepository metrics,
            SchedulerMetrics telemetry, TokenService tokens, AuditLog audit, FailedAuthentications failures, Clock clock)
    {
        this.failures = requireNonNull(failures, "failures is null");
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
            config.jetty.modifyServer(server -> server.setErrorHandler(new JsonErrorHandler()));
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
        // bodies are read (and bounded) before anything else, token or not
        app.before(this::readBody);
        app.before(this::authenticate);
        // liveness: the process serves HTTP; a database outage must not get every scheduler restarted
        app.get("/livez", ctx -> ctx.contentType("text/plain; charset=utf-8").result("ok\n"));
        // readiness: able to serve calls, which needs the database (/healthz: the older name of the same)
        app.get("/readyz", this::health);
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
            if (!body(ctx).isBlank()) {
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
            String accept = ctx.header("Accept");
            if (accept == null || !accept.contains("text/event-stream")) {
                // without this a plain GET got an empty 200 that never ends
                HttpErrors.answer(ctx, 406, "NOT_ACCEPTABLE",
                        "/api/v1/events is a stream of Server-Sent Events: send \"Accept: text/event-stream\" (a browser's EventSource does)");
                ctx.skipRemainingHandlers();
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

        app.exception(StatusRuntimeException.class, (e, ctx) -> HttpErrors.answer(ctx, e.getStatus()));
        app.exception(HttpRefusal.class, (e, ctx) -> {
            if (e.closeConnection) {
                // the rest of an oversized body is not read: the connection ends with this answer
                ctx.header("Connection", "close");
            }
            HttpErrors.answer(ctx, e.httpStatus, e.code, e.getMessage());
        });
        app.exception(StoreException.class, (e, ctx) -> HttpErrors.answer(ctx, e.unavailable()
                .map(reason -> Status.UNAVAILABLE.withDescription(StoreException.unavailableMessage(reason)))
                .orElseGet(() -> {
                    log.error("internal error", e);
                    return Status.INTERNAL.withDescription("internal error; the scheduler's log has the details");
                })));
        app.exception(Exception.class, (e, ctx) -> {
            log.error("internal error serving {} {}", ctx.method(), ctx.path(), e);
            HttpErrors.answer(ctx, Status.INTERNAL.withDescription("internal error; the scheduler's log has the details"));
        });
        app.exception(BadRequest.class, (e, ctx) -> HttpErrors.answer(ctx, Status.INVALID_ARGUMENT.withDescription(e.getMessage())));
        app.exception(Refused.class, (e, ctx) -> HttpErrors.answer(ctx, e.status()));
        app.error(404, ctx -> {
            // a 404 a route answered (an experiment that does not exist) keeps its message
            if (ctx.path().startsWith("/api/") && !HttpErrors.answered(ctx)) {
                HttpErrors.answer(ctx, Status.NOT_FOUND.withDescription("no such API route: " + ctx.method() + " " + ctx.path()));
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
                    throw new BadRequest("state must be one of pending, scheduled, running, succeeded, failed, cancelled, preempted: got \"" + RequestGuard.echo(state) + "\"");
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
        Principal principal = authenticate(ctx, token, fromCookie);
        if (principal instanceof Principal.Worker worker) {
            throw refuse(ctx, worker.describe(), Status.PERMISSION_DENIED.withDescription("a worker credential may only report metrics"));
        }
        if (fromCookie && WRITES.contains(ctx.method())) {
            requireDashboardWrite(ctx, principal.describe());
        }
        ctx.attribute("tranche.principal", principal);
        ctx.attribute("tranche.token", token);
    }

    /** The token's principal; a failure counts against the caller's address, and an address over its budget is refused unasked. */
    private Principal authenticate(io.javalin.http.Context ctx, String token, boolean fromCookie)
    {
        if (!failures.admit(ctx.ip())) {
            throw new Refused(failures.refusal(ctx.ip()));
        }
        try {
            return tokens.authenticate(token);
        }
        catch (AuthenticationException e) {
            failures.failed(ctx.ip());
            if (fromCookie) {
                ctx.cookie(sessionCookie("", 0));
            }
            throw refuse(ctx, "anonymous", Status.UNAUTHENTICATED.withDescription(e.getMessage()));
        }
    }

    /**
     * A write that a browser's cookie authenticates must come from the dashboard itself: the browser
     * says so in Origin (or, where it sends none, Sec-Fetch-Site), and its body is JSON, which a form
     * on another site cannot send without the browser asking first.
     */
    private void requireDashboardWrite(io.javalin.http.Context ctx, String actor)
    {
        String origin = ctx.header("Origin");
        String fetchSite = ctx.header("Sec-Fetch-Site");
        boolean sameOrigin = origin != null ? sameOrigin(ctx, origin) : "same-origin".equals(fetchSite);
        if (!sameOrigin) {
            throw refuse(ctx, actor, Status.PERMISSION_DENIED.withDescription(origin != null
                    ? "cross-site request refused: Origin " + RequestGuard.echo(origin) + " is not this dashboard"
                    : "a write with the session cookie must come from the dashboard (an Origin or Sec-Fetch-Site: same-origin header); scripts send \"Authorization: Bearer <token>\""));
        }
        String type = ctx.header("Content-Type");
        if (type == null || !type.strip().toLowerCase(Locale.ROOT).startsWith("application/json")) {
            throw refuse(ctx, actor, Status.PERMISSION_DENIED.withDescription("a write with the session cookie must send Content-Type: application/json: got "
                    + (type == null ? "none" : RequestGuard.echo(type))));
        }
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
        String origin = ctx.header("Origin");
        if (origin != null && !sameOrigin(ctx, origin)) {
            // no logging a victim's browser into someone else's account from another site
            throw refuse(ctx, "anonymous", Status.PERMISSION_DENIED.withDescription("cross-site login refused: Origin " + RequestGuard.echo(origin) + " is not this dashboard"));
        }
        JsonObject body;
        try {
            body = JsonParser.parseString(body(ctx)).getAsJsonObject();
        }
        catch (RuntimeException e) {
            throw new BadRequest("the request body must be {\"token\": \"...\"}");
        }
        String token = body.has("token") && body.get("token").isJsonPrimitive() ? body.get("token").getAsString().strip() : "";
        Principal principal = authenticate(ctx, token, false);
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

    private boolean sameOrigin(io.javalin.http.Context ctx, String origin)
    {
        String host = ctx.header("Host");
        return host != null && origin.equals((tls ? "https://" : "http://") + host);
    }

    /**
     * Reads a write's body, at most {@code limit} bytes (less for a login), before authentication so
     * that no caller can make the server hold more: a longer body is answered 413 without reading the
     * rest, chunked or not, and one that stops arriving or ends before its Content-Length gets 400.
     */
    private void readBody(io.javalin.http.Context ctx)
    {
        if (!WRITES.contains(ctx.method())) {
            return;
        }
        long limit = ctx.path().equals(SESSION_PATH) ? MAX_LOGIN_BYTES : MAX_REQUEST_BYTES;
        long declared = ctx.req().getContentLengthLong();
        if (declared > limit) {
            throw tooLarge(limit);
        }
        int reserved = (int) ((declared >= 0 ? declared : limit) / 1024 + 1);
        try {
            if (!bodyBudget.tryAcquire(reserved, 2, TimeUnit.SECONDS)) {
                throw new HttpRefusal(503, Status.Code.UNAVAILABLE.name(), "the scheduler is reading too many request bodies at once; retry shortly", false);
            }
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HttpRefusal(503, Status.Code.UNAVAILABLE.name(), "the scheduler is shutting down", false);
        }
        EndPoint endPoint = Request.getBaseRequest(ctx.req()).getHttpChannel().getEndPoint();
        long idleTimeout = endPoint.getIdleTimeout();
        endPoint.setIdleTimeout(BODY_STALL_MILLIS);
        long total = 0;
        try {
            InputStream in = ctx.req().getInputStream();
            ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.min(declared >= 0 ? declared : 8192, limit));
            byte[] buffer = new byte[8192];
            for (int read; (read = in.read(buffer)) != -1; ) {
                total += read;
                if (total > limit) {
                    throw tooLarge(limit);
                }
                out.write(buffer, 0, read);
            }
            String body = out.toString(StandardCharsets.UTF_8);
            int depth = nesting(body);
            if (depth > MAX_JSON_NESTING) {
                throw new HttpRefusal(400, Status.Code.INVALID_ARGUMENT.name(), "the request body nests " + (depth == Integer.MAX_VALUE ? "more than " + MAX_JSON_NESTING : depth)
                        + " levels deep; at most " + MAX_JSON_NESTING + " are allowed", false);
            }
            ctx.attribute(BODY, body);
        }
        catch (IOException e) {
            throw new HttpRefusal(400, Status.Code.INVALID_ARGUMENT.name(), declared >= 0
                    ? "the request body ended or stopped arriving after " + total + " of the " + declared + " bytes its Content-Length announced"
                    : "the request body ended or stopped arriving after " + total + " bytes", true);
        }
        finally {
            endPoint.setIdleTimeout(idleTimeout);
            bodyBudget.release(reserved);
        }
    }

    /** How deeply a JSON text nests arrays and objects, read without parsing it (a parser recurses, and a deep enough body overflows its stack). */
    static int nesting(String json)
    {
        int depth = 0;
        int deepest = 0;
        boolean inString = false;
        for (int i = 0; i < json.length(); i++) {
            char c = json.charAt(i);
            if (inString) {
                if (c == '\\') {
                    i++;
                }
                else if (c == '"') {
                    inString = false;
                }
            }
            else if (c == '"') {
                inString = true;
            }
            else if (c == '[' || c == '{') {
                depth++;
                if (depth > deepest) {
                    deepest = depth;
                    if (deepest > 10 * MAX_JSON_NESTING) {
                        return Integer.MAX_VALUE;
                    }
                }
            }
            else if (c == ']' || c == '}') {
                depth--;
            }
        }
        return deepest;
    }

    private static HttpRefusal tooLarge(long limit)
    {
        return new HttpRefusal(413, "REQUEST_TOO_LARGE", "the request body is larger than the limit of " + limit / 1024 + " KiB for this route", true);
    }

    /** The body {@link #readBody} read ("" for a request without one). */
    private static String body(io.javalin.http.Context ctx)
    {
        String body = ctx.attribute(BODY);
        return body == null ? "" : body;
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
            JsonFormat.parser().merge(body(ctx), builder);
        }
        catch (InvalidProtocolBufferException | RuntimeException e) {
            throw new BadRequest("the request body is not a valid " + builder.getDescriptorForType().getName() + " in JSON: " + plain(e));
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

    /**
     * A parser's complaint in the caller's words: its first line, without Java class names or
     * protobuf package prefixes, and cut short (it may quote what the caller sent).
     */
    static String plain(Throwable e)
    {
        String message = e.getMessage() == null ? "" : e.getMessage().lines().findFirst().orElse("");
        message = message.replaceAll("\\b(?:[a-z_][a-z0-9_]*\\.)+[A-Z]\\w*(?:Exception|Error)\\b:?\\s*", "")
                .replace("tranche.v1.", "")
                .strip();
        if (message.isEmpty()) {
            message = "malformed JSON";
        }
        return message.length() <= 200 ? message : message.substring(0, 200) + "...";
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
            throw new BadRequest(name + " must be a whole number: got \"" + RequestGuard.echo(value) + "\"");
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

    /** A request refused before it reaches a service, with its HTTP status (413, or 400 for a broken body). */
    private static final class HttpRefusal
            extends RuntimeException
    {
        private final int httpStatus;
        private final String code;
        private final boolean closeConnection;

        HttpRefusal(int httpStatus, String code, String message, boolean closeConnection)
        {
            super(message, null, false, false);
            this.httpStatus = httpStatus;
            this.code = code;
            this.closeConnection = closeConnection;
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

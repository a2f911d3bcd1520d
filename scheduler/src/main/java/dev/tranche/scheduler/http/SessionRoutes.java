package dev.tranche.scheduler.http;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tranche.proto.v1.AuthServiceGrpc;
import dev.tranche.proto.v1.WhoAmIRequest;
import dev.tranche.scheduler.http.HttpErrors.BadRequest;
import dev.tranche.scheduler.http.HttpErrors.Refused;
import dev.tranche.scheduler.security.AuditEntry;
import dev.tranche.scheduler.security.AuditLog;
import dev.tranche.scheduler.security.AuthenticationException;
import dev.tranche.scheduler.security.FailedAuthentications;
import dev.tranche.scheduler.security.Principal;
import dev.tranche.scheduler.security.TokenService;
import dev.tranche.scheduler.service.RequestGuard;
import io.grpc.Channel;
import io.grpc.Status;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.Cookie;
import io.javalin.http.HandlerType;
import io.javalin.http.SameSite;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/**
 * Who is calling: every request but the public ones needs a token, "Authorization: Bearer" (scripts)
 * or the session cookie that logging in at {@code /api/v1/session} sets (the dashboard); a cookie's
 * writes must come from the dashboard itself. What a token may do is decided by the gRPC services
 * the gateway calls with it; here only its validity, and the cookie's origin, are checked.
 */
final class SessionRoutes
{
    static final String SESSION_COOKIE = "tranche_token";
    static final String SESSION_PATH = "/api/v1/session";
    /** Reachable without a token: probes, and the login page with what it needs. */
    private static final Set<String> PUBLIC_PATHS = Set.of("/livez", "/readyz", "/healthz", "/login.html", "/style.css", "/favicon.ico");
    private static final String PRINCIPAL = "tranche.principal";
    private static final String TOKEN = "tranche.token";

    private final Channel internal;
    private final TokenService tokens;
    private final AuditLog audit;
    private final FailedAuthentications failures;
    private final Clock clock;
    private final boolean tls;

    SessionRoutes(Channel internal, TokenService tokens, AuditLog audit, FailedAuthentications failures, Clock clock, boolean tls)
    {
        this.internal = requireNonNull(internal, "internal is null");
        this.tokens = requireNonNull(tokens, "tokens is null");
        this.audit = requireNonNull(audit, "audit is null");
        this.failures = requireNonNull(failures, "failures is null");
        this.clock = requireNonNull(clock, "clock is null");
        this.tls = tls;
    }

    /** The authentication filter (after the body is read, before any route) and the session routes. */
    void addTo(RoutesConfig app)
    {
        app.before(this::authenticate);
        app.post(SESSION_PATH, this::login);
        app.get(SESSION_PATH, ctx -> Gateway.json(ctx, AuthServiceGrpc.newBlockingStub(internal).withInterceptors(Gateway.forward(ctx))
                .withDeadlineAfter(30, TimeUnit.SECONDS).whoAmI(WhoAmIRequest.getDefaultInstance())));
        app.delete(SESSION_PATH, ctx -> {
            ctx.cookie(sessionCookie("", 0));
            ctx.status(204);
        });
    }

    /** The bearer token the caller authenticated with, if any (the gateway forwards it to the services). */
    static String token(Context ctx)
    {
        return ctx.attribute(TOKEN);
    }

    private void authenticate(Context ctx)
    {
        if (PUBLIC_PATHS.contains(ctx.path()) || ctx.path().equals(SESSION_PATH) && !ctx.method().equals(HandlerType.GET)) {
            // logging in and out need no session; who-am-I (GET) does
            return;
        }
        String header = ctx.header("Authorization");
        boolean fromCookie = header == null || header.isBlank();
        String token = fromCookie ? ctx.cookie(SESSION_COOKIE) : header.strip().replaceFirst("(?i)^Bearer\\s+", "");
        if (token == null || token.isBlank()) {
            if (isPage(ctx)) {
                toLoginPage(ctx);
                return;
            }
            throw refuse(ctx, "anonymous", Status.UNAUTHENTICATED.withDescription("a token is required: \"Authorization: Bearer <token>\", or log in at /login.html"));
        }
        Principal principal;
        try {
            principal = authenticate(ctx, token, fromCookie);
        }
        catch (Refused e) {
            if (fromCookie && isPage(ctx)) {
                // an expired or revoked session: a person gets the login page (the cookie is already cleared), not JSON
                toLoginPage(ctx);
                return;
            }
            throw e;
        }
        if (principal instanceof Principal.Worker worker) {
            throw refuse(ctx, worker.describe(), Status.PERMISSION_DENIED.withDescription("a worker credential may only report metrics"));
        }
        if (fromCookie && RequestBodies.WRITES.contains(ctx.method())) {
            requireDashboardWrite(ctx, principal.describe());
        }
        ctx.attribute(PRINCIPAL, principal);
        ctx.attribute(TOKEN, token);
    }

    /** A person at the dashboard asking for a page, rather than a script calling the API. */
    private static boolean isPage(Context ctx)
    {
        return ctx.method().equals(HandlerType.GET) && (ctx.path().equals("/") || ctx.path().endsWith(".html"));
    }

    /** Off to the login page, which comes back here afterwards: {@code next} is only ever a path on this server. */
    private static void toLoginPage(Context ctx)
    {
        String path = ctx.path();
        String query = ctx.queryString();
        String here = query == null || query.isEmpty() ? path : path + "?" + query;
        // "//host" or "/\host" would be read by a browser as another site: such a path gets no next
        boolean local = path.startsWith("/") && !path.startsWith("//") && !path.contains("\\") && !path.equals("/");
        ctx.redirect(local ? "/login.html?next=" + URLEncoder.encode(here, StandardCharsets.UTF_8) : "/login.html");
        ctx.skipRemainingHandlers();
    }

    /** The token's principal; a failure counts against the caller's address, and an address over its budget is refused unasked. */
    private Principal authenticate(Context ctx, String token, boolean fromCookie)
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
    private void requireDashboardWrite(Context ctx, String actor)
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

    /** Refuses (403, audited) a caller who is not an admin. */
    void requireAdmin(Context ctx)
    {
        Principal principal = ctx.attribute(PRINCIPAL);
        if (principal == null || !principal.isAdmin()) {
            throw refuse(ctx, principal == null ? "anonymous" : principal.describe(),
                    Status.PERMISSION_DENIED.withDescription(ctx.path() + " is for admins"));
        }
    }

    /** POST /api/v1/session {"token": "..."}: checks the token and keeps it in an HttpOnly cookie. */
    private void login(Context ctx)
    {
        String origin = ctx.header("Origin");
        if (origin != null && !sameOrigin(ctx, origin)) {
            // no logging a victim's browser into someone else's account from another site
            throw refuse(ctx, "anonymous", Status.PERMISSION_DENIED.withDescription("cross-site login refused: Origin " + RequestGuard.echo(origin) + " is not this dashboard"));
        }
        JsonObject body;
        try {
            body = JsonParser.parseString(RequestBodies.body(ctx)).getAsJsonObject();
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
        return new Cookie(SESSION_COOKIE, value, "/", maxAge, tls, true, null, SameSite.STRICT);
    }

    private boolean sameOrigin(Context ctx, String origin)
    {
        String host = ctx.header("Host");
        return host != null && origin.equals((tls ? "https://" : "http://") + host);
    }

    private Refused refuse(Context ctx, String actor, Status status)
    {
        audit.record(new AuditEntry(0, clock.instant(), actor, ctx.method() + " " + ctx.path(), "", status.getCode().name(),
                status.getDescription(), ctx.ip()));
        return new Refused(status);
    }
}

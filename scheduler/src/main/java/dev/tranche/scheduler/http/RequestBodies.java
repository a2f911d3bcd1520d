package dev.tranche.scheduler.http;

import dev.tranche.scheduler.http.HttpErrors.HttpRefusal;
import io.grpc.Status;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.HandlerType;
import jakarta.servlet.http.HttpServletResponse;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.ee10.servlet.ServletContextRequest;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Request bodies, read and bounded before anything else looks at a request (authentication
 * included): a write's body is read in full, at most {@link #MAX_REQUEST_BYTES} ({@link
 * #MAX_LOGIN_BYTES} for a login), nested at most {@link #MAX_JSON_NESTING} deep, arriving at least
 * at {@link #MIN_BODY_BYTES_PER_SECOND}, and all bodies held at once fit in {@link #BODY_BUDGET_KIB}
 * ({@link #LOGIN_BUDGET_KIB} for logins).
 */
final class RequestBodies
{
    static final long MAX_REQUEST_BYTES = 1024 * 1024;
    /** A login body holds one token. */
    static final long MAX_LOGIN_BYTES = 8 * 1024;
    /** A body that stops arriving for this long is refused, rather than holding a thread for the idle timeout. */
    private static final long BODY_STALL_MILLIS = 3_000;
    /** Request bodies held in memory at once, all requests together: the heap they can take is bounded by this. */
    static final int BODY_BUDGET_KIB = 64 * 1024;
    /** Logins have their own budget, so that bodies of other writes, however many, never keep anyone from logging in. */
    static final int LOGIN_BUDGET_KIB = 4 * 1024;
    /** Budget is taken in steps of this as a body arrives. */
    private static final long BUDGET_STEP_BYTES = 64 * 1024;
    /** A body must arrive at this average rate once its first seconds have passed (a 1 MiB body: 64 s). */
    static final long MIN_BODY_BYTES_PER_SECOND = 16 * 1024;
    static final long BODY_GRACE_MILLIS = 5_000;
    static final int MAX_JSON_NESTING = 32;
    static final Set<HandlerType> WRITES = Set.of(HandlerType.POST, HandlerType.PUT, HandlerType.PATCH, HandlerType.DELETE);
    private static final String BODY = "tranche.body";
    /** How long, and how much, the rest of an oversized body is read and dropped after its 413 (see {@link #refuseTooLarge}). */
    private static final long LINGER_MILLIS = 2_000;
    private static final long LINGER_BYTES = 64L * 1024 * 1024;

    private final Semaphore bodyBudget = new Semaphore(BODY_BUDGET_KIB);
    private final Semaphore loginBudget = new Semaphore(LOGIN_BUDGET_KIB);

    /** First of all filters: no caller, with a token or without, makes the server hold more than the limits. */
    void addTo(RoutesConfig app)
    {
        app.before(this::read);
    }

    /** The body {@link #read} read ("" for a request without one). */
    static String body(Context ctx)
    {
        String body = ctx.attribute(BODY);
        return body == null ? "" : body;
    }

    /**
     * Reads a write's body, at most {@code limit} bytes (less for a login), before authentication so
     * that no caller can make the server hold more: a longer body is answered 413 without reading the
     * rest, chunked or not, and one that stops arriving or ends before its Content-Length gets 400.
     */
    private void read(Context ctx)
    {
        if (!WRITES.contains(ctx.method())) {
            return;
        }
        boolean login = ctx.path().equals(SessionRoutes.SESSION_PATH);
        long limit = login ? MAX_LOGIN_BYTES : MAX_REQUEST_BYTES;
        long declared = ctx.req().getContentLengthLong();
        if (declared > limit) {
            refuseTooLarge(ctx, limit);
            return;
        }
        // budget is taken as bytes arrive, not as announced: a caller who announces large bodies and
        // trickles them holds what it sent, not the budget (which would shut everyone else's writes out)
        Semaphore budget = login ? loginBudget : bodyBudget;
        int held = 0;
        EndPoint endPoint = endPoint(ctx);
        long idleTimeout = endPoint.getIdleTimeout();
        endPoint.setIdleTimeout(BODY_STALL_MILLIS);
        long started = System.nanoTime();
        long total = 0;
        try {
            InputStream in = ctx.req().getInputStream();
            ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.min(declared >= 0 ? declared : 8192, limit));
            byte[] buffer = new byte[8192];
            for (int read; (read = in.read(buffer)) != -1; ) {
                total += read;
                if (total > limit) {
                    refuseTooLarge(ctx, limit);
                    return;
                }
                int needed = (int) Math.min(limit / 1024 + 1, (total + BUDGET_STEP_BYTES - 1) / BUDGET_STEP_BYTES * (BUDGET_STEP_BYTES / 1024));
                if (needed > held) {
                    take(budget, needed - held);
                    held = needed;
                }
                long elapsedMillis = (System.nanoTime() - started) / 1_000_000;
                if (elapsedMillis > BODY_GRACE_MILLIS + total * 1000 / MIN_BODY_BYTES_PER_SECOND) {
                    // each byte restarts the stall timer: without a rate, a trickle would hold a thread for ever
                    throw new HttpRefusal(408, Status.Code.DEADLINE_EXCEEDED.name(), String.format(Locale.ROOT,
                            "the request body arrives too slowly: %d bytes in %.1f s; send it at %d KiB/s or more", total, elapsedMillis / 1000.0,
                            MIN_BODY_BYTES_PER_SECOND / 1024), true);
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
            budget.release(held);
        }
    }

    private static void take(Semaphore budget, int kib)
    {
        try {
            if (!budget.tryAcquire(kib, 2, TimeUnit.SECONDS)) {
                throw new HttpRefusal(503, Status.Code.UNAVAILABLE.name(), "the scheduler is reading too many request bodies at once; retry shortly", false);
            }
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HttpRefusal(503, Status.Code.UNAVAILABLE.name(), "the scheduler is shutting down", false);
        }
    }

    private static EndPoint endPoint(Context ctx)
    {
        return ServletContextRequest.getServletContextRequest(ctx.req()).getConnectionMetaData().getConnection().getEndPoint();
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

    /**
     * Answers 413 and ends the connection without reading the rest of the body, but only after the
     * client has had the answer: closing a socket with unread input makes the kernel send a reset,
     * which can destroy the 413 still on its way to a client busy sending. So the answer is written
     * and flushed first, then what keeps arriving is read and dropped ("lingering close", as
     * httpd does) until the client closes, for at most {@link #LINGER_MILLIS} and {@link
     * #LINGER_BYTES}; nothing is kept, so the heap bound holds.
     */
    private static void refuseTooLarge(Context ctx, long limit)
    {
        byte[] bytes = HttpErrors.body("REQUEST_TOO_LARGE", "the request body is larger than the limit of " + limit / 1024 + " KiB for this route")
                .getBytes(StandardCharsets.UTF_8);
        HttpServletResponse response = ctx.res();
        // nothing after this filter runs: no route, no error mapping, no result written after this one
        ctx.skipRemainingHandlers();
        HttpErrors.markAnswered(ctx);
        try {
            response.setStatus(413);
            response.setHeader("Connection", "close");
            response.setContentType("application/json");
            response.setContentLength(bytes.length);
            response.getOutputStream().write(bytes);
            response.flushBuffer();
            // the connection ends after this: a client that stops sending does not hold the thread for longer
            endPoint(ctx).setIdleTimeout(LINGER_MILLIS);
            InputStream in = ctx.req().getInputStream();
            byte[] discard = new byte[16 * 1024];
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(LINGER_MILLIS);
            long dropped = 0;
            for (int read; dropped < LINGER_BYTES && System.nanoTime() < deadline && (read = in.read(discard)) != -1; ) {
                dropped += read;
            }
        }
        catch (IOException | RuntimeException e) {
            // the client closed or reset the connection, having read the answer or not: nothing more to do
        }
    }
}

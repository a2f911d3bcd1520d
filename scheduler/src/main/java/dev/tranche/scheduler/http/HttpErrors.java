package dev.tranche.scheduler.http;

import com.google.gson.JsonObject;
import dev.tranche.scheduler.errors.StoreException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a refused call answers over HTTP, for every route alike: the gRPC status maps one to one to an
 * HTTP status, and the body carries the service's own message, {@code {"code": "NOT_FOUND", "message":
 * "experiment exp-1 does not exist"}}.
 */
final class HttpErrors
{
    private static final Logger log = LoggerFactory.getLogger(HttpErrors.class);
    /** Set once a route has answered with an error, so the fallback for unknown routes leaves it alone. */
    private static final String ANSWERED = "tranche.error-answered";

    private HttpErrors() {}

    /** Every exception a route or filter throws, and a 404 no route answered, as the JSON error above. */
    static void addTo(RoutesConfig app)
    {
        app.exception(StatusRuntimeException.class, (e, ctx) -> answer(ctx, e.getStatus()));
        app.exception(HttpRefusal.class, (e, ctx) -> {
            if (e.closeConnection()) {
                // the rest of an oversized body is not read: the connection ends with this answer
                ctx.header("Connection", "close");
            }
            answer(ctx, e.httpStatus(), e.code(), e.getMessage());
        });
        app.exception(StoreException.class, (e, ctx) -> answer(ctx, e.unavailable()
                .map(reason -> Status.UNAVAILABLE.withDescription(StoreException.unavailableMessage(reason)))
                .orElseGet(() -> {
                    log.error("internal error", e);
                    return Status.INTERNAL.withDescription("internal error; the scheduler's log has the details");
                })));
        app.exception(Exception.class, (e, ctx) -> {
            log.error("internal error serving {} {}", ctx.method(), ctx.path(), e);
            answer(ctx, Status.INTERNAL.withDescription("internal error; the scheduler's log has the details"));
        });
        app.exception(BadRequest.class, (e, ctx) -> answer(ctx, Status.INVALID_ARGUMENT.withDescription(e.getMessage())));
        app.exception(Refused.class, (e, ctx) -> answer(ctx, e.status()));
        app.error(404, ctx -> {
            // a 404 a route answered (an experiment that does not exist) keeps its message
            if (ctx.path().startsWith("/api/") && !answered(ctx)) {
                answer(ctx, Status.NOT_FOUND.withDescription("no such API route: " + ctx.method() + " " + ctx.path()));
            }
        });
    }

    static void answer(Context ctx, Status status)
    {
        answer(ctx, httpStatus(status.getCode()), status.getCode().name(), status.getDescription() == null ? status.getCode().name() : status.getDescription());
    }

    /** For refusals that are HTTP's own and have no gRPC status, such as 406 Not Acceptable. */
    static void answer(Context ctx, int httpStatus, String code, String message)
    {
        ctx.attribute(ANSWERED, Boolean.TRUE);
        ctx.status(httpStatus).contentType("application/json").result(body(code, message));
    }

    /** The JSON body of every error answer. */
    static String body(String code, String message)
    {
        JsonObject body = new JsonObject();
        body.addProperty("code", code);
        body.addProperty("message", message);
        return body.toString();
    }

    /** For a filter that wrote its answer itself. */
    static void markAnswered(Context ctx)
    {
        ctx.attribute(ANSWERED, Boolean.TRUE);
    }

    /** Whether {@link #answer} already wrote this response: a route's 404 is not a missing route. */
    static boolean answered(Context ctx)
    {
        return ctx.attribute(ANSWERED) != null;
    }

    static int httpStatus(Status.Code code)
    {
        return switch (code) {
            case OK -> 200;
            case INVALID_ARGUMENT, OUT_OF_RANGE -> 400;
            case UNAUTHENTICATED -> 401;
            case PERMISSION_DENIED -> 403;
            case NOT_FOUND -> 404;
            case ALREADY_EXISTS, ABORTED, FAILED_PRECONDITION -> 409;
            case RESOURCE_EXHAUSTED -> 429;
            case CANCELLED -> 499;
            case UNIMPLEMENTED -> 501;
            case UNAVAILABLE -> 503;
            case DEADLINE_EXCEEDED -> 504;
            case UNKNOWN, INTERNAL, DATA_LOSS -> 500;
        };
    }

    /** A request refused by authentication or authorization: 401 or 403 with the reason. */
    static final class Refused
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
    static final class HttpRefusal
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

        int httpStatus()
        {
            return httpStatus;
        }

        String code()
        {
            return code;
        }

        boolean closeConnection()
        {
            return closeConnection;
        }
    }

    /** A malformed HTTP request (bad JSON, a non-number where a number belongs): 400 with the reason. */
    static final class BadRequest
            extends RuntimeException
    {
        BadRequest(String message)
        {
            super(message);
        }
    }
}

package dev.tranche.scheduler.http;

import com.google.gson.JsonObject;
import io.grpc.Status;
import io.javalin.http.Context;

/**
 * How a refused call answers over HTTP, for every route alike: the gRPC status maps one to one to an
 * HTTP status, and the body carries the service's own message, {@code {"code": "NOT_FOUND", "message":
 * "experiment exp-1 does not exist"}}.
 */
final class HttpErrors
{
    /** Set once a route has answered with an error, so the fallback for unknown routes leaves it alone. */
    private static final String ANSWERED = "tranche.error-answered";

    private HttpErrors() {}

    static void answer(Context ctx, Status status)
    {
        answer(ctx, httpStatus(status.getCode()), status.getCode().name(), status.getDescription() == null ? status.getCode().name() : status.getDescription());
    }

    /** For refusals that are HTTP's own and have no gRPC status, such as 406 Not Acceptable. */
    static void answer(Context ctx, int httpStatus, String code, String message)
    {
        JsonObject body = new JsonObject();
        body.addProperty("code", code);
        body.addProperty("message", message);
        ctx.attribute(ANSWERED, Boolean.TRUE);
        ctx.status(httpStatus).contentType("application/json").result(body.toString());
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
}

package dev.tranche.scheduler.http;

import com.google.gson.JsonObject;
import dev.tranche.proto.v1.ExperimentEvent;
import dev.tranche.proto.v1.ExperimentServiceGrpc;
import dev.tranche.proto.v1.ListExperimentsRequest;
import dev.tranche.proto.v1.WatchExperimentsRequest;
import io.grpc.Channel;
import io.grpc.ClientInterceptor;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.javalin.config.RoutesConfig;
import io.javalin.http.sse.SseClient;

import static java.util.Objects.requireNonNull;

/**
 * {@code GET /api/v1/events}: the service's Watch stream as Server-Sent Events, one {@code experiment}
 * event per change. When the service ends or refuses the watch (too many open for the token, a client
 * that fell behind, the server stopping), one {@code watch-ended} event says why before the stream
 * closes: {@code {"code", "message", "retry"}}, retry true only where reconnecting by itself helps.
 */
final class EventRoutes
{
    static final String EVENTS_PATH = "/api/v1/events";
    static final String ENDED_EVENT = "watch-ended";

    private final Channel internal;
    private final Gateway gateway;

    EventRoutes(Channel internal, Gateway gateway)
    {
        this.internal = requireNonNull(internal, "internal is null");
        this.gateway = requireNonNull(gateway, "gateway is null");
    }

    void addTo(RoutesConfig app)
    {
        // an event stream answers 200 before its first event: ask the service first, so a caller who
        // may not watch the project gets a 403 instead of a stream that closes at once
        app.before(EVENTS_PATH, ctx -> {
            if (SessionRoutes.token(ctx) != null) {
                gateway.experiments(ctx).list(ListExperimentsRequest.newBuilder().setProject(Gateway.orEmpty(ctx.queryParam("project"))).setPageSize(1).build());
            }
            String accept = ctx.header("Accept");
            if (accept == null || !accept.contains("text/event-stream")) {
                // without this a plain GET got an empty 200 that never ends
                HttpErrors.answer(ctx, 406, "NOT_ACCEPTABLE",
                        EVENTS_PATH + " is a stream of Server-Sent Events: send \"Accept: text/event-stream\" (a browser's EventSource does)");
                ctx.skipRemainingHandlers();
            }
        });
        app.sse(EVENTS_PATH, client -> {
            client.keepAlive();
            WatchExperimentsRequest request = WatchExperimentsRequest.newBuilder()
                    .setProject(Gateway.orEmpty(client.ctx().queryParam("project")))
                    .setSkipCurrent("true".equals(client.ctx().queryParam("skip_current")))
                    .build();
            Context.CancellableContext call = Context.current().withCancellation();
            client.onClose(() -> call.cancel(null));
            ClientInterceptor caller = Gateway.forward(client.ctx());
            call.run(() -> ExperimentServiceGrpc.newStub(internal).withInterceptors(caller).watch(request, new StreamObserver<>()
            {
                @Override
                public void onNext(ExperimentEvent event)
                {
                    client.sendEvent("experiment", Gateway.print(event));
                }

                @Override
                public void onError(Throwable t)
                {
                    end(client, Status.fromThrowable(t));
                }

                @Override
                public void onCompleted()
                {
                    end(client, Status.OK);
                }
            }));
        });
    }

    /** Why the watch ended; an EventSource reconnects by itself after any close, so the page is told whether that helps. */
    static String ended(Status status)
    {
        JsonObject body = new JsonObject();
        body.addProperty("code", status.getCode().name());
        body.addProperty("message", status.getDescription() == null ? status.getCode().name() : status.getDescription());
        // a stopping server comes back (or another takes over); a refusal or a limit stays until the user acts
        body.addProperty("retry", status.getCode() == Status.Code.UNAVAILABLE);
        return body.toString();
    }

    /**
     * Ends the stream when the service ends the watch. A stream learns that its browser left only
     * when it next writes, and Jetty 12 recycles such a request when it stops: ending that one would
     * only have Javalin log errors about a request that no longer exists. A watch the service ended
     * with an error says why first; a cancelled one is this stream's own close, with nobody to tell.
     */
    private static void end(SseClient client, Status status)
    {
        if (client.terminated() || !answering(client)) {
            return;
        }
        if (!status.isOk() && status.getCode() != Status.Code.CANCELLED) {
            client.sendEvent(ENDED_EVENT, ended(status));
        }
        client.close();
    }

    private static boolean answering(SseClient client)
    {
        try {
            client.ctx().res().getStatus();
            return true;
        }
        catch (RuntimeException recycled) {
            return false;
        }
    }
}

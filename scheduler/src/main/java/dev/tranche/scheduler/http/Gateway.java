package dev.tranche.scheduler.http;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.Timestamp;
import com.google.protobuf.util.JsonFormat;
import dev.tranche.client.HistoryTrace;
import dev.tranche.proto.v1.AdminServiceGrpc;
import dev.tranche.proto.v1.CancelExperimentRequest;
import dev.tranche.proto.v1.ExperimentServiceGrpc;
import dev.tranche.proto.v1.ExperimentState;
import dev.tranche.proto.v1.ExportHistoryRequest;
import dev.tranche.proto.v1.GetExperimentRequest;
import dev.tranche.proto.v1.GetUsageRequest;
import dev.tranche.proto.v1.HistoryJob;
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
import dev.tranche.scheduler.http.HttpErrors.BadRequest;
import dev.tranche.scheduler.security.AuthInterceptor;
import dev.tranche.scheduler.service.RequestGuard;
import io.grpc.Channel;
import io.grpc.ClientInterceptor;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/**
 * The JSON API under {@code /api/v1/}: each route calls a gRPC service in-process as the HTTP caller
 * (their token, their address), so it has the same validation, rules and messages as gRPC; requests
 * and answers are the services' messages in protobuf's JSON.
 */
final class Gateway
{
    private static final JsonFormat.Printer JSON = JsonFormat.printer().preservingProtoFieldNames().alwaysPrintFieldsWithNoPresence().omittingInsignificantWhitespace();

    private final Channel internal;
    private final ExportFiles exportFiles;

    Gateway(Channel internal, ExportFiles exportFiles)
    {
        this.internal = requireNonNull(internal, "internal is null");
        this.exportFiles = requireNonNull(exportFiles, "exportFiles is null");
    }

    void addTo(RoutesConfig app)
    {
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
            if (!RequestBodies.body(ctx).isBlank()) {
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
        app.get("/api/v1/usage", ctx -> json(ctx, admin(ctx).getUsage(GetUsageRequest.newBuilder()
                .setDays(intParam(ctx, "days", 0)).setProject(orEmpty(ctx.queryParam("project"))).build())));
        app.get("/api/v1/history", this::exportHistory);
    }

    /**
     * Finished experiments that ran, oldest submission first: as the trace {@code tranche simulate
     * --format tranche} replays ({@code format=csv}, the default, what {@code tranche history export}
     * writes) or as the service's jobs ({@code format=json}). Written whole to a private file under
     * the server's home ({@link ExportFiles}) before the answer starts (deleted once sent): the service streams a page at a time, so the
     * server's memory does not grow with the history, and a failure half-way is an error, never half
     * a file.
     */
    private void exportHistory(Context ctx)
            throws IOException
    {
        String format = orEmpty(ctx.queryParam("format")).strip().toLowerCase(Locale.ROOT);
        if (!format.isEmpty() && !format.equals("csv") && !format.equals("json")) {
            throw new BadRequest("format must be csv or json: got \"" + RequestGuard.echo(ctx.queryParam("format")) + "\"");
        }
        boolean json = format.equals("json");
        ExportHistoryRequest.Builder request = ExportHistoryRequest.newBuilder().setProject(orEmpty(ctx.queryParam("project")));
        instantParam(ctx, "since").ifPresent(request::setSince);
        instantParam(ctx, "until").ifPresent(request::setUntil);
        Path file = null;
        int leftOut = 0;
        // the export stream is this request's: however writing ends, it ends, and so gives back its
        // place among the exports a server runs at once (an abandoned one would hold it to its deadline)
        io.grpc.Context.CancellableContext export = io.grpc.Context.current().withCancellation();
        io.grpc.Context previous = export.attach();
        try {
            Iterator<HistoryJob> jobs = ExperimentServiceGrpc.newBlockingStub(internal).withInterceptors(forward(ctx))
                    .withDeadlineAfter(5, TimeUnit.MINUTES).exportHistory(request.build());
            file = exportFiles.newFile(json ? ".json" : ".csv");
            try (Writer out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
                if (json) {
                    out.write("{\"jobs\":[");
                    for (boolean first = true; jobs.hasNext(); first = false) {
                        out.write(first ? "" : ",");
                        out.write(print(jobs.next()));
                    }
                    out.write("]}");
                }
                else {
                    out.write(HistoryTrace.HEADER + "\n");
                    while (jobs.hasNext()) {
                        Optional<String> row = HistoryTrace.row(jobs.next());
                        if (row.isPresent()) {
                            out.write(row.get() + "\n");
                        }
                        else {
                            leftOut++;
                        }
                    }
                }
            }
        }
        catch (RuntimeException | IOException e) {
            if (file != null) {
                Files.deleteIfExists(file);
            }
            throw e;
        }
        finally {
            export.detach(previous);
            export.cancel(null);
        }
        if (!json) {
            // what the trace cannot hold (GPU memory or no GPU), counted as the CLI counts it on stderr
            ctx.header("X-Tranche-Left-Out", Integer.toString(leftOut));
            ctx.header("Content-Disposition", "attachment; filename=\"tranche-history.csv\"");
        }
        ctx.contentType(json ? "application/json" : "text/csv; charset=utf-8");
        ctx.header("Content-Length", Long.toString(Files.size(file)));
        ctx.result(Files.newInputStream(file, StandardOpenOption.DELETE_ON_CLOSE));
    }

    /** An instant (2026-11-01T08:00:00Z) or a day (2026-11-01, from its start in UTC); absent when not given. */
    private static Optional<Timestamp> instantParam(Context ctx, String name)
    {
        String value = ctx.queryParam(name);
        if (value == null || value.isBlank()) {
            return Optional.empty();
        }
        Instant instant = HistoryTrace.instantOrDay(value).orElseThrow(() -> new BadRequest(
                name + " must be an instant (2026-11-01T08:00:00Z) or a day (2026-11-01, UTC): got \"" + RequestGuard.echo(value) + "\""));
        return Optional.of(Timestamp.newBuilder().setSeconds(instant.getEpochSecond()).setNanos(instant.getNano()).build());
    }

    private void listExperiments(Context ctx)
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
        ctx.contentType("application/json").result(print(experiments(ctx).list(request.build())));
    }

    ExperimentServiceGrpc.ExperimentServiceBlockingStub experiments(Context ctx)
    {
        return ExperimentServiceGrpc.newBlockingStub(internal).withInterceptors(forward(ctx)).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    private AdminServiceGrpc.AdminServiceBlockingStub admin(Context ctx)
    {
        return AdminServiceGrpc.newBlockingStub(internal).withInterceptors(forward(ctx)).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    /** Calls the services as the HTTP caller: their token, and their address for the audit log. */
    static ClientInterceptor forward(Context ctx)
    {
        Metadata headers = new Metadata();
        String token = SessionRoutes.token(ctx);
        if (token != null) {
            headers.put(AuthInterceptor.AUTHORIZATION, "Bearer " + token);
        }
        headers.put(AuthInterceptor.FORWARDED_FOR, ctx.ip());
        return MetadataUtils.newAttachHeadersInterceptor(headers);
    }

    private static void parse(Context ctx, Message.Builder builder)
    {
        try {
            JsonFormat.parser().merge(RequestBodies.body(ctx), builder);
        }
        catch (InvalidProtocolBufferException | RuntimeException e) {
            throw new BadRequest("the request body is not a valid " + builder.getDescriptorForType().getName() + " in JSON: " + plain(e));
        }
    }

    static void json(Context ctx, MessageOrBuilder message)
    {
        ctx.contentType("application/json").result(print(message));
    }

    static String print(MessageOrBuilder message)
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

    private static int intParam(Context ctx, String name, int fallback)
    {
        return (int) longParam(ctx, name, fallback);
    }

    private static long longParam(Context ctx, String name, long fallback)
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

    static String orEmpty(String value)
    {
        return value == null ? "" : value;
    }
}

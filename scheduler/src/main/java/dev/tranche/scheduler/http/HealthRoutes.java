package dev.tranche.scheduler.http;

import dev.tranche.scheduler.telemetry.SchedulerMetrics;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;

import java.util.Optional;
import java.util.function.Supplier;

import static java.util.Objects.requireNonNull;

/**
 * What probes and Prometheus read: {@code /livez} (the process serves HTTP), {@code /readyz} and its
 * older name {@code /healthz} (and can serve calls, which needs the database), {@code /metrics} (admins).
 */
final class HealthRoutes
{
    private final Supplier<Optional<String>> databaseUnavailable;
    private final SchedulerMetrics telemetry;
    private final SessionRoutes sessions;

    HealthRoutes(Supplier<Optional<String>> databaseUnavailable, SchedulerMetrics telemetry, SessionRoutes sessions)
    {
        this.databaseUnavailable = requireNonNull(databaseUnavailable, "databaseUnavailable is null");
        this.telemetry = requireNonNull(telemetry, "telemetry is null");
        this.sessions = requireNonNull(sessions, "sessions is null");
    }

    void addTo(RoutesConfig app)
    {
        // liveness: a database outage must not get every scheduler restarted
        app.get("/livez", ctx -> ctx.contentType("text/plain; charset=utf-8").result("ok\n"));
        app.get("/readyz", this::ready);
        app.get("/healthz", this::ready);
        app.get("/metrics", ctx -> {
            sessions.requireAdmin(ctx);
            ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(telemetry.scrape());
        });
    }

    /** What the database supervisor last saw (it checks every half second): answers at once, even while the database hangs. */
    private void ready(Context ctx)
    {
        Optional<String> problem = databaseUnavailable.get();
        ctx.status(problem.isEmpty() ? 200 : 503).contentType("text/plain; charset=utf-8")
                .result(problem.map(reason -> "database unavailable: " + reason + "\n").orElse("ok\n"));
    }
}

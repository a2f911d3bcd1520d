package dev.tranche.scheduler.store;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static java.util.Objects.requireNonNull;

/**
 * Keeps watch over the scheduler's database, so that an outage is known at once instead of by each
 * call waiting out the pool's timeout. A probe connection checks it every half second; an embedded
 * PostgreSQL is also watched as a process, and when it dies it is started again through
 * {@link EmbeddedPostgresServer#restart()} (same directory, same port: the pool reconnects to the URL
 * it has). An external database is only probed; the pool reconnects once it is back.
 */
final class DatabaseSupervisor
        implements AutoCloseable
{
    private static final Logger log = LoggerFactory.getLogger(DatabaseSupervisor.class);
    private static final Duration PROBE_INTERVAL = Duration.ofMillis(500);
    private static final Duration RESTART_BACKOFF = Duration.ofSeconds(1);
    // how long stopping waits for a restart under way (one server start; stopping must stay under 5 s)
    private static final Duration RESTART_IN_FLIGHT = Duration.ofMillis(3500);

    private final String jdbcUrl;
    private final Properties probeProperties;
    private final String description;
    private final Runnable reconnected;
    private final ScheduledExecutorService executor;
    private final AtomicInteger restarts = new AtomicInteger();

    private volatile Optional<EmbeddedPostgresServer> embedded;
    // null while the database answers
    private volatile String unavailable;
    private final AtomicBoolean restarting = new AtomicBoolean();
    private volatile boolean closed;
    private Connection probe;

    /**
     * @param reconnected run when the database answers again after an outage (the pool drops its
     * connections to the dead server)
     */
    DatabaseSupervisor(String jdbcUrl, Optional<String> user, Optional<String> password, Optional<EmbeddedPostgresServer> embedded, String description,
            Runnable reconnected)
    {
        this.jdbcUrl = requireNonNull(jdbcUrl, "jdbcUrl is null");
        this.embedded = requireNonNull(embedded, "embedded is null");
        this.description = requireNonNull(description, "description is null");
        this.reconnected = requireNonNull(reconnected, "reconnected is null");
        this.probeProperties = new Properties();
        user.ifPresent(value -> probeProperties.setProperty("user", value));
        password.ifPresent(value -> probeProperties.setProperty("password", value));
        // the probe must answer fast even when the database's host does not
        probeProperties.setProperty("connectTimeout", "1");
        probeProperties.setProperty("socketTimeout", "3");
        probeProperties.setProperty("ApplicationName", "tranche-probe");
        this.executor = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "tranche-db-supervisor");
            thread.setDaemon(true);
            return thread;
        });
    }

    void start()
    {
        embedded.ifPresent(this::watch);
        executor.scheduleWithFixedDelay(this::probe, PROBE_INTERVAL.toMillis(), PROBE_INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Why the database cannot be used now; empty while it answers. */
    Optional<String> unavailable()
    {
        String reason = unavailable;
        return closed ? Optional.of("the scheduler is shutting down") : Optional.ofNullable(reason);
    }

    /** How often the embedded PostgreSQL was started again since this scheduler started. */
    int restarts()
    {
        return restarts.get();
    }

    Optional<EmbeddedPostgresServer> embedded()
    {
        return embedded;
    }

    /** Stops watching (no restart from now on); the caller stops the database itself. */
    @Override
    public void close()
    {
        closed = true;
        executor.shutdownNow();
        try {
            // a restart under way may be starting a server: let it finish and stop what it started
            // (it checks "closed" before it starts one, so what is left to wait for is one start)
            executor.awaitTermination(RESTART_IN_FLIGHT.toMillis(), TimeUnit.MILLISECONDS);
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        closeProbe();
    }

    /** When the postmaster exits while nobody stopped it, the database is down at once: restart it. */
    private void watch(EmbeddedPostgresServer server)
    {
        server.postmaster().ifPresent(postmaster -> postmaster.onExit().thenRun(() -> died(server, "pid " + postmaster.pid())));
    }

    /** The embedded server is gone (its exit seen, or the probe found no postmaster): restart it, once. */
    private void died(EmbeddedPostgresServer server, String which)
    {
        if (closed || embedded.orElse(null) != server || jvmShuttingDown() || !restarting.compareAndSet(false, true)) {
            return;
        }
        unavailable = "the embedded PostgreSQL (" + which + ") stopped; the scheduler is restarting it";
        log.error("{}", unavailable);
        try {
            executor.execute(() -> restart(server));
        }
        catch (RuntimeException e) {
            // shutting down
        }
    }

    private void restart(EmbeddedPostgresServer dead)
    {
        long started = System.nanoTime();
        for (int attempt = 1; !closed; attempt++) {
            try {
                EmbeddedPostgresServer restarted = dead.restart(() -> closed);
                if (closed) {
                    restarted.close();
                    return;
                }
                embedded = Optional.of(restarted);
                restarts.incrementAndGet();
                restarting.set(false);
                watch(restarted);
                log.warn("embedded PostgreSQL restarted on port {} after {} ms ({} attempt{})", restarted.port(),
                        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), attempt, attempt == 1 ? "" : "s");
                probe();
                return;
            }
            catch (RuntimeException e) {
                if (closed || jvmShuttingDown()) {
                    // the scheduler is stopping: nothing to restart for, and no time to spend on it
                    return;
                }
                // for one: its old processes still hold the shared memory for a moment after the postmaster died
                log.warn("could not restart the embedded PostgreSQL (attempt {}): {}; retrying", attempt, rootMessage(e));
            }
            try {
                Thread.sleep(RESTART_BACKOFF.toMillis());
            }
            catch (InterruptedException e) {
                return;
            }
        }
    }

    /** One check: the probe connection answers, or the database is marked unavailable with the reason. */
    private void probe()
    {
        if (closed || restarting.get()) {
            return;
        }
        try {
            if (probe == null) {
                probe = DriverManager.getConnection(jdbcUrl, probeProperties);
            }
            if (!probe.isValid(2)) {
                throw new SQLException("the database did not answer within 2 s");
            }
            if (unavailable != null) {
                log.warn("the database {} answers again", description);
                unavailable = null;
                reconnected.run();
            }
        }
        catch (SQLException | RuntimeException e) {
            closeProbe();
            Optional<EmbeddedPostgresServer> server = embedded;
            if (server.isPresent() && server.get().postmaster().isEmpty()) {
                // seen here before its exit is: the exit watch polls, the probe does not wait
                died(server.get(), "no postmaster in " + server.get().dataDirectory());
            }
            else if (unavailable == null) {
                unavailable = "cannot reach the database " + description + ": " + rootMessage(e);
                log.error("{}", unavailable);
            }
        }
    }

    /**
     * The library stops its PostgreSQL from a shutdown hook of its own, which may run before this
     * supervisor is closed: that stop is not a death to recover from.
     */
    private static boolean jvmShuttingDown()
    {
        Thread probe = new Thread(() -> {});
        try {
            Runtime.getRuntime().addShutdownHook(probe);
            Runtime.getRuntime().removeShutdownHook(probe);
            return false;
        }
        catch (IllegalStateException e) {
            return true;
        }
    }

    private void closeProbe()
    {
        Connection connection = probe;
        probe = null;
        if (connection != null) {
            try {
                connection.close();
            }
            catch (SQLException ignored) {
                // it is broken anyway
            }
        }
    }

    private static String rootMessage(Throwable e)
    {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    }
}

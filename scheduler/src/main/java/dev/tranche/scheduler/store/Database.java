package dev.tranche.scheduler.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import org.flywaydb.core.Flyway;

import javax.sql.DataSource;

import java.time.Duration;
import java.nio.file.Path;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * A migrated PostgreSQL database behind a connection pool; closing it also stops an embedded server.
 * While the database cannot be reached (its {@link DatabaseSupervisor} knows at once), asking for a
 * connection fails at once with {@link DatabaseUnavailableException}, which callers report as
 * "unavailable, retry", instead of waiting out the pool's timeout.
 */
public final class Database
        implements AutoCloseable
{
    // how long a call waits for a connection from a busy pool before it fails
    private static final Duration CONNECTION_WAIT = Duration.ofSeconds(10);
    // the pool's own wait, short so that a wait notices an outage (or shutdown) begun meanwhile
    private static final Duration POOL_WAIT_STEP = Duration.ofMillis(500);

    // connections only the scheduling loop uses (its read and its writes, one at a time): a cycle never
    // waits for a connection behind a burst of requests, which on a busy machine cost it up to 240 ms
    private static final int SCHEDULING_CONNECTIONS = 2;

    private final HikariDataSource pool;
    private final HikariDataSource schedulingPool;
    private final DataSource dataSource;
    private final DataSource schedulingDataSource;
    private final DatabaseSupervisor supervisor;
    private final String description;

    private Database(HikariDataSource pool, HikariDataSource schedulingPool, DatabaseSupervisor supervisor, String description)
    {
        this.pool = pool;
        this.schedulingPool = schedulingPool;
        this.supervisor = supervisor;
        this.description = description;
        this.dataSource = new GuardedDataSource(pool, supervisor::unavailable, CONNECTION_WAIT);
        this.schedulingDataSource = new GuardedDataSource(schedulingPool, supervisor::unavailable, CONNECTION_WAIT);
    }

    /**
     * The embedded PostgreSQL of a scheduler's home, started and connected to as Tranche's role: its
     * data in HOME/postgres, its passwords in {@link #embeddedSecretsFile}, its log in HOME/logs.
     */
    public static Database openEmbedded(Path home, int poolSize)
    {
        EmbeddedPostgresServer embedded = EmbeddedPostgresServer.start(home.resolve("postgres"), embeddedSecretsFile(home), home.resolve("logs").resolve("postgres.log"));
        return connect(embedded.jdbcUrl(), Optional.of(EmbeddedPostgresServer.APPLICATION_ROLE), Optional.of(embedded.applicationPassword()), poolSize,
                Optional.of(embedded), "embedded PostgreSQL in " + embedded.dataDirectory());
    }

    public static Path embeddedSecretsFile(Path home)
    {
        return home.resolve("secrets").resolve("postgres");
    }

    /** Connects to {@code jdbcUrl}, brings the schema up to date and keeps {@code poolSize} connections. */
    public static Database connect(String jdbcUrl, Optional<String> user, Optional<String> password, int poolSize, Optional<EmbeddedPostgresServer> embedded, String description)
    {
        requireNonNull(jdbcUrl, "jdbcUrl is null");
        HikariDataSource dataSource;
        try {
            dataSource = new HikariDataSource(poolConfig(jdbcUrl, user, password, poolSize, "tranche-db"));
        }
        catch (RuntimeException e) {
            embedded.ifPresent(EmbeddedPostgresServer::close);
            throw new IllegalStateException("cannot connect to the database " + description + ": " + rootMessage(e), e);
        }
        try {
            requireSupportedVersion(dataSource, description);
            Flyway.configure()
                    .dataSource(dataSource)
                    .locations("classpath:db/migration")
                    .javaMigrations(new V24__BackfillRequestedGpus())
                    .load()
                    .migrate();
        }
        catch (RuntimeException e) {
            dataSource.close();
            embedded.ifPresent(EmbeddedPostgresServer::close);
            throw new IllegalStateException("cannot bring the schema of " + description + " up to date: " + rootMessage(e), e);
        }
        HikariDataSource pool = dataSource;
        HikariDataSource schedulingPool;
        try {
            schedulingPool = new HikariDataSource(poolConfig(jdbcUrl, user, password, SCHEDULING_CONNECTIONS, "tranche-db-scheduling"));
        }
        catch (RuntimeException e) {
            pool.close();
            embedded.ifPresent(EmbeddedPostgresServer::close);
            throw new IllegalStateException("cannot connect to the database " + description + ": " + rootMessage(e), e);
        }
        DatabaseSupervisor supervisor = new DatabaseSupervisor(jdbcUrl, user, password, embedded, description, () -> {
            pool.getHikariPoolMXBean().softEvictConnections();
            schedulingPool.getHikariPoolMXBean().softEvictConnections();
        });
        supervisor.start();
        return new Database(pool, schedulingPool, supervisor, description);
    }

    private static HikariConfig poolConfig(String jdbcUrl, Optional<String> user, Optional<String> password, int size, String name)
    {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(jdbcUrl);
        user.ifPresent(config::setUsername);
        password.ifPresent(config::setPassword);
        config.setMaximumPoolSize(size);
        config.setMinimumIdle(Math.min(size, 4));
        config.setPoolName(name);
        // shown in pg_stat_activity, so an admin can tell the scheduling loop's sessions from the others
        config.addDataSourceProperty("ApplicationName", name);
        config.setConnectionTimeout(POOL_WAIT_STEP.toMillis());
        return config;
    }

    /** The oldest PostgreSQL the schema needs: 13 brought {@code xid8}, which the scheduling loop's change tracking uses. */
    static final int OLDEST_SERVER_VERSION = 130_000;

    private static void requireSupportedVersion(DataSource dataSource, String description)
    {
        try (java.sql.Connection connection = dataSource.getConnection();
                java.sql.Statement statement = connection.createStatement();
                java.sql.ResultSet row = statement.executeQuery("SELECT current_setting('server_version_num')::int, current_setting('server_version')")) {
            row.next();
            if (row.getInt(1) < OLDEST_SERVER_VERSION) {
                throw new IllegalStateException("the database " + description + " runs PostgreSQL " + row.getString(2)
                        + "; Tranche needs PostgreSQL 13 or newer: upgrade it, or leave out --db-url to use the embedded one");
            }
        }
        catch (java.sql.SQLException e) {
            throw new IllegalStateException("cannot read the version of " + description + ": " + e.getMessage(), e);
        }
    }

    /** Connections from the pool; while the database is unavailable, asking for one fails at once. */
    public DataSource dataSource()
    {
        return dataSource;
    }

    /** Connections reserved for the scheduling loop, so that requests never hold up a cycle. */
    public DataSource schedulingDataSource()
    {
        return schedulingDataSource;
    }

    /** Why the database cannot be used now (down, restarting); empty while it answers. Never blocks. */
    public Optional<String> unavailable()
    {
        return supervisor.unavailable();
    }

    /** How often the embedded PostgreSQL was started again after it died. */
    public int restarts()
    {
        return supervisor.restarts();
    }

    /** For logs: "embedded PostgreSQL in DIR" or the external URL without secrets. */
    public String description()
    {
        return description;
    }

    @Override
    public void close()
    {
        supervisor.close();
        schedulingPool.close();
        pool.close();
        supervisor.embedded().ifPresent(EmbeddedPostgresServer::close);
    }

    private static String rootMessage(Throwable e)
    {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage();
    }
}

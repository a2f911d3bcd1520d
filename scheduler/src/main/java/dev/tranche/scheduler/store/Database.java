package dev.tranche.scheduler.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import org.flywaydb.core.Flyway;

import javax.sql.DataSource;

import java.util.Optional;

import static java.util.Objects.requireNonNull;

/** A migrated PostgreSQL database behind a connection pool; closing it also stops an embedded server. */
public final class Database
        implements AutoCloseable
{
    private final HikariDataSource dataSource;
    private final Optional<EmbeddedPostgresServer> embedded;
    private final String description;

    private Database(HikariDataSource dataSource, Optional<EmbeddedPostgresServer> embedded, String description)
    {
        this.dataSource = dataSource;
        this.embedded = embedded;
        this.description = description;
    }

    /** Connects to {@code jdbcUrl}, brings the schema up to date and keeps {@code poolSize} connections. */
    public static Database connect(String jdbcUrl, Optional<String> user, Optional<String> password, int poolSize, Optional<EmbeddedPostgresServer> embedded, String description)
    {
        requireNonNull(jdbcUrl, "jdbcUrl is null");
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(jdbcUrl);
        user.ifPresent(config::setUsername);
        password.ifPresent(config::setPassword);
        config.setMaximumPoolSize(poolSize);
        config.setMinimumIdle(Math.min(poolSize, 4));
        config.setPoolName("tranche-db");
        config.setConnectionTimeout(10_000);
        HikariDataSource dataSource;
        try {
            dataSource = new HikariDataSource(config);
        }
        catch (RuntimeException e) {
            embedded.ifPresent(EmbeddedPostgresServer::close);
            throw new IllegalStateException("cannot connect to the database " + description + ": " + rootMessage(e), e);
        }
        try {
            Flyway.configure()
                    .dataSource(dataSource)
                    .locations("classpath:db/migration")
                    .load()
                    .migrate();
        }
        catch (RuntimeException e) {
            dataSource.close();
            embedded.ifPresent(EmbeddedPostgresServer::close);
            throw new IllegalStateException("cannot bring the schema of " + description + " up to date: " + rootMessage(e), e);
        }
        return new Database(dataSource, embedded, description);
    }

    public DataSource dataSource()
    {
        return dataSource;
    }

    /** For logs: "embedded PostgreSQL in DIR" or the external URL without secrets. */
    public String description()
    {
        return description;
    }

    @Override
    public void close()
    {
        dataSource.close();
        embedded.ifPresent(EmbeddedPostgresServer::close);
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

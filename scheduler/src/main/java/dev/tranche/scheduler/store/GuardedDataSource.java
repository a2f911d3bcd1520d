package dev.tranche.scheduler.store;

import com.zaxxer.hikari.HikariDataSource;

import javax.sql.DataSource;

import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.logging.Logger;

import static java.util.Objects.requireNonNull;

/**
 * The pool as the repositories see it: a connection, unless the database is known to be down, in
 * which case the request fails at once. A wait for a busy pool is made of short waits, so that an
 * outage (or a shutdown) that begins meanwhile ends it too.
 */
final class GuardedDataSource
        implements DataSource
{
    private final HikariDataSource pool;
    private final Supplier<Optional<String>> unavailable;
    private final Duration maxWait;

    GuardedDataSource(HikariDataSource pool, Supplier<Optional<String>> unavailable, Duration maxWait)
    {
        this.pool = requireNonNull(pool, "pool is null");
        this.unavailable = requireNonNull(unavailable, "unavailable is null");
        this.maxWait = requireNonNull(maxWait, "maxWait is null");
    }

    @Override
    public Connection getConnection()
            throws SQLException
    {
        long deadline = System.nanoTime() + maxWait.toNanos();
        while (true) {
            Optional<String> reason = unavailable.get();
            if (reason.isPresent()) {
                throw new DatabaseUnavailableException(reason.get());
            }
            try {
                return pool.getConnection();
            }
            catch (SQLTransientConnectionException e) {
                if (System.nanoTime() >= deadline || pool.isClosed()) {
                    throw e;
                }
            }
        }
    }

    @Override
    public Connection getConnection(String username, String password)
            throws SQLException
    {
        throw new SQLFeatureNotSupportedException("the pool has its own credentials");
    }

    @Override
    public PrintWriter getLogWriter()
            throws SQLException
    {
        return pool.getLogWriter();
    }

    @Override
    public void setLogWriter(PrintWriter out)
            throws SQLException
    {
        pool.setLogWriter(out);
    }

    @Override
    public void setLoginTimeout(int seconds)
            throws SQLException
    {
        pool.setLoginTimeout(seconds);
    }

    @Override
    public int getLoginTimeout()
            throws SQLException
    {
        return pool.getLoginTimeout();
    }

    @Override
    public Logger getParentLogger()
            throws SQLFeatureNotSupportedException
    {
        return pool.getParentLogger();
    }

    @Override
    public <T> T unwrap(Class<T> type)
            throws SQLException
    {
        if (type.isInstance(this)) {
            return type.cast(this);
        }
        return pool.unwrap(type);
    }

    @Override
    public boolean isWrapperFor(Class<?> type)
            throws SQLException
    {
        return type.isInstance(this) || pool.isWrapperFor(type);
    }
}

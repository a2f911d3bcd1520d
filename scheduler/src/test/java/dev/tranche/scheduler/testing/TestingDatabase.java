package dev.tranche.scheduler.testing;

import dev.tranche.scheduler.store.Database;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import javax.sql.DataSource;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;

/**
 * A fresh, migrated database on the test JVM's real PostgreSQL ({@link TestingPostgres}) for one test
 * class that works with the store directly: {@code @RegisterExtension static final TestingDatabase
 * database = new TestingDatabase();}.
 */
public final class TestingDatabase
        implements BeforeAllCallback, AfterAllCallback
{
    private Database database;

    @Override
    public void beforeAll(ExtensionContext context)
    {
        database = Database.connect(TestingPostgres.newDatabase(), Optional.empty(), Optional.empty(), 4, Optional.empty(),
                "the test database of " + context.getDisplayName());
    }

    @Override
    public void afterAll(ExtensionContext context)
    {
        if (database != null) {
            database.close();
        }
    }

    public DataSource dataSource()
    {
        return database.dataSource();
    }

    /** Runs one statement: set-up no repository offers, such as backdating a row. */
    public void execute(String sql)
            throws SQLException
    {
        try (Connection connection = dataSource().getConnection(); Statement statement = connection.createStatement()) {
            statement.execute(sql);
        }
    }

    /** The number in the first column of the query's first row (as {@link TestingScheduler#count}). */
    public long count(String sql)
            throws SQLException
    {
        try (Connection connection = dataSource().getConnection(); Statement statement = connection.createStatement();
                ResultSet row = statement.executeQuery(sql)) {
            row.next();
            return row.getLong(1);
        }
    }

    /** The milli-GPUs the experiment holds now, summed over its replicas' GPUs (0 when it holds none). */
    public long heldGpuMilli(String experimentId)
            throws SQLException
    {
        try (Connection connection = dataSource().getConnection();
                PreparedStatement statement = connection.prepareStatement("SELECT coalesce(sum(milli), 0) FROM gpu_allocations WHERE experiment_id = ?")) {
            statement.setString(1, experimentId);
            try (ResultSet row = statement.executeQuery()) {
                row.next();
                return row.getLong(1);
            }
        }
    }
}

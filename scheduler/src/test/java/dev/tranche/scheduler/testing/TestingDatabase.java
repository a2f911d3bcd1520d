package dev.tranche.scheduler.testing;

import dev.tranche.scheduler.store.Database;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import javax.sql.DataSource;

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
}

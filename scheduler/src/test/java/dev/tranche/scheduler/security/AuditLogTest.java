package dev.tranche.scheduler.security;

import dev.tranche.scheduler.store.AuditRepository;
import dev.tranche.scheduler.store.Database;
import dev.tranche.scheduler.testing.TestingPostgres;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** Every recorded event is stored, whatever bytes a refused caller sent, and one bad event costs only itself. */
class AuditLogTest
{
    private Database database;
    private AuditRepository repository;
    private AuditLog audit;

    @BeforeEach
    void setUp()
    {
        database = Database.connect(TestingPostgres.newDatabase(), Optional.empty(), Optional.empty(), 2, Optional.empty(), "test");
        repository = new AuditRepository(database.dataSource());
        audit = new AuditLog(repository, 1000);
    }

    @AfterEach
    void tearDown()
    {
        audit.close();
        database.close();
    }

    @Test
    void aTargetWithNulAndControlCharactersIsStoredEscapedWithTheRestOfItsBatch()
    {
        for (int i = 0; i < 20; i++) {
            audit.record(entry("exp-" + i));
        }
        audit.record(entry("exp-\u0000evil\u001b[31m\ud800"));
        audit.flush();

        List<AuditEntry> stored = repository.list(100, 0, true);
        assertThat(stored).hasSize(21);
        assertThat(stored.get(0).target()).isEqualTo("exp-\\u0000evil\\u001b[31m\\ud800");
    }

    @Test
    void anEventTheDatabaseRefusesDoesNotTakeTheOthersWithIt()
            throws Exception
    {
        try (Connection connection = database.dataSource().getConnection();
                Statement statement = connection.createStatement()) {
            statement.execute("ALTER TABLE audit_events ADD CONSTRAINT refuses_one CHECK (target <> 'refused-by-the-database')");
        }
        for (int i = 0; i < 10; i++) {
            audit.record(entry("exp-" + i));
        }
        audit.record(entry("refused-by-the-database"));
        for (int i = 10; i < 20; i++) {
            audit.record(entry("exp-" + i));
        }
        audit.flush();

        assertThat(repository.list(100, 0, true)).extracting(AuditEntry::target).hasSize(20).doesNotContain("refused-by-the-database");
    }

    private static AuditEntry entry(String target)
    {
        return new AuditEntry(0, Instant.now(), "anonymous", "tranche.v1.ExperimentService/Get", target, "UNAUTHENTICATED", "a token is required", "127.0.0.1");
    }
}

package dev.tranche.scheduler.security;

import dev.tranche.scheduler.store.AuditRepository;
import dev.tranche.scheduler.store.Database;
import dev.tranche.scheduler.testing.TestingPostgres;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

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

    /**
     * A recorder can be paused between putting its event on the queue and counting it, while the
     * writer already stores that event. flush() must still wait for an event recorded after it.
     */
    @Test
    void flushWaitsForEveryEventRecordedBeforeItWhileAnotherRecorderIsPaused()
            throws Exception
    {
        try (Connection connection = database.dataSource().getConnection();
                Statement statement = connection.createStatement()) {
            statement.execute("""
                    CREATE FUNCTION slow_audit() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN
                      IF NEW.target = 'written-slowly' THEN PERFORM pg_sleep(0.5); END IF;
                      RETURN NEW;
                    END $$""");
            statement.execute("CREATE TRIGGER slow_audit BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION slow_audit()");
        }
        AuditEntry paused = entry("recorded-by-a-paused-thread");
        CountDownLatch offered = new CountDownLatch(1);
        CountDownLatch resume = new CountDownLatch(1);
        BlockingQueue<AuditEntry> queue = new ArrayBlockingQueue<>(100)
        {
            @Override
            public boolean offer(AuditEntry entry)
            {
                boolean taken = super.offer(entry);
                if (entry == paused) {
                    // the recorder is descheduled right after the queue took its event
                    offered.countDown();
                    try {
                        resume.await();
                    }
                    catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                return taken;
            }
        };
        audit.close();
        audit = new AuditLog(repository, queue);
        Thread recorder = new Thread(() -> audit.record(paused));
        recorder.start();
        try {
            offered.await();
            await().atMost(Duration.ofSeconds(10)).until(() -> repository.list(10, 0, false).size() == 1);

            audit.record(entry("written-slowly"));
            audit.flush();

            assertThat(repository.list(10, 0, false)).extracting(AuditEntry::target).contains("written-slowly");
        }
        finally {
            resume.countDown();
            recorder.join();
        }
    }

    private static AuditEntry entry(String target)
    {
        return new AuditEntry(0, Instant.now(), "anonymous", "tranche.v1.ExperimentService/Get", target, "UNAUTHENTICATED", "a token is required", "127.0.0.1");
    }
}

package dev.tranche.scheduler.scheduling;

import dev.tranche.scheduler.experiment.ExperimentEventBus;
import dev.tranche.scheduler.server.SchedulerServer;
import dev.tranche.scheduler.store.ClusterRepository;
import dev.tranche.scheduler.store.Database;
import dev.tranche.scheduler.store.ExperimentRepository;
import dev.tranche.scheduler.store.PlacementWriter;
import dev.tranche.scheduler.telemetry.SchedulerMetrics;
import dev.tranche.scheduler.testing.Specs;
import dev.tranche.scheduler.testing.TestingDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import javax.sql.DataSource;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Logger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The loop reads only what changed since its last read, by transaction id. When the database behind
 * it is restored from a backup or replaced, its transaction ids go back, and rows written then carry
 * ids the loop counts as seen: it must notice and read the queue whole again, or new work waits forever.
 */
final class RestoredDatabaseTest
{
    @RegisterExtension
    static final TestingDatabase original = new TestingDatabase();

    @TempDir
    Path home;

    @Test
    void aDatabaseWhoseTransactionIdsWentBackIsReadWholeAgain()
            throws Exception
    {
        // the original has run many more transactions than a freshly set-up server
        try (Connection connection = original.dataSource().getConnection(); Statement statement = connection.createStatement()) {
            for (int i = 0; i < 5_000; i++) {
                statement.execute("SELECT pg_current_xact_id()");
            }
        }
        new ExperimentRepository(original.dataSource()).insert("exp-restore001", Specs.accepted("before", "default"), Optional.empty(), "submitted");
        SwitchableDataSource behind = new SwitchableDataSource(original.dataSource());
        SchedulingLoop loop = new SchedulingLoop(new ClusterRepository(behind), new PlacementWriter(behind), new ExperimentEventBus(),
                SchedulerServer.productionCycle("best-fit"), new SchedulerMetrics(), Duration.ofSeconds(1), Duration.ofMillis(200), 16);
        ClusterViewReader reader = loop.reader();
        assertThat(loop.cycle(List.of(reader.readNow())).waiting()).isEqualTo(1);

        try (Database restored = Database.openEmbedded(home, 2)) {
            assertThat(currentTransaction(restored.dataSource())).as("the replacement's transaction ids are behind the original's")
                    .isLessThan(currentTransaction(original.dataSource()));
            behind.target.set(restored.dataSource());
            new ExperimentRepository(restored.dataSource()).insert("exp-restore002", Specs.accepted("after", "default"), Optional.empty(), "submitted");

            ClusterViewReader.View view = reader.readNow();
            assertThat(view.delta().complete()).as("read whole again").isTrue();
            assertThat(view.snapshot().pending()).extracting(ClusterRepository.Queued::id).containsExactly("exp-restore002");
            // the loop's queue is what the restored database holds: the new experiment, not the lost one
            assertThat(loop.cycle(List.of(view)).waiting()).isEqualTo(1);
        }
        loop.close();
    }

    private static long currentTransaction(DataSource dataSource)
            throws SQLException
    {
        try (Connection connection = dataSource.getConnection(); Statement statement = connection.createStatement();
                ResultSet row = statement.executeQuery("SELECT pg_current_xact_id()::text::bigint")) {
            row.next();
            return row.getLong(1);
        }
    }

    /** The address the scheduler connects to, with another server behind it from some moment on. */
    private static final class SwitchableDataSource
            implements DataSource
    {
        final AtomicReference<DataSource> target;

        SwitchableDataSource(DataSource first)
        {
            this.target = new AtomicReference<>(first);
        }

        @Override
        public Connection getConnection()
                throws SQLException
        {
            return target.get().getConnection();
        }

        @Override
        public Connection getConnection(String username, String password)
                throws SQLException
        {
            return target.get().getConnection(username, password);
        }

        @Override
        public PrintWriter getLogWriter()
                throws SQLException
        {
            return target.get().getLogWriter();
        }

        @Override
        public void setLogWriter(PrintWriter out)
                throws SQLException
        {
            target.get().setLogWriter(out);
        }

        @Override
        public void setLoginTimeout(int seconds)
                throws SQLException
        {
            target.get().setLoginTimeout(seconds);
        }

        @Override
        public int getLoginTimeout()
                throws SQLException
        {
            return target.get().getLoginTimeout();
        }

        @Override
        public Logger getParentLogger()
        {
            return Logger.getGlobal();
        }

        @Override
        public <T> T unwrap(Class<T> type)
                throws SQLException
        {
            return target.get().unwrap(type);
        }

        @Override
        public boolean isWrapperFor(Class<?> type)
                throws SQLException
        {
            return target.get().isWrapperFor(type);
        }
    }
}

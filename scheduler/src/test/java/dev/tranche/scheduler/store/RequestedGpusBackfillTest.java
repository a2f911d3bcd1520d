package dev.tranche.scheduler.store;

import dev.tranche.scheduler.testing.Specs;
import dev.tranche.scheduler.testing.TestingPostgres;
import dev.tranche.scheduler.wire.ExperimentSpecs;
import dev.tranche.proto.v1.GpuRequest;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Migration 24 fills the requested GPUs of experiments stored before version 23, from their specs. */
class RequestedGpusBackfillTest
{
    @Test
    void experimentsStoredBeforeTheColumnGetTheirRequestedGpusAndTheColumnBecomesRequired()
            throws Exception
    {
        PGSimpleDataSource dataSource = new PGSimpleDataSource();
        dataSource.setURL(TestingPostgres.newDatabase());
        Flyway.configure().dataSource(dataSource).locations("classpath:db/migration").javaMigrations(new V24__BackfillRequestedGpus()).target("23").load().migrate();
        try (Connection connection = dataSource.getConnection(); Statement statement = connection.createStatement()) {
            statement.execute("INSERT INTO projects (name) VALUES ('vision')");
            insert(connection, "exp-old0000001", spec(GpuRequest.newBuilder().setFraction(0.25), 2));
            insert(connection, "exp-old0000002", spec(GpuRequest.newBuilder().setCount(4), 1));
            insert(connection, "exp-old0000003", spec(GpuRequest.newBuilder().setMemoryMib(10_240), 1));
            try (PreparedStatement broken = connection.prepareStatement(
                    "INSERT INTO experiments (id, project, name, spec, state, reason) VALUES ('exp-old0000004', 'vision', 'broken', ?, 'PENDING', 'old')")) {
                broken.setBytes(1, new byte[] {1, 2, 3});
                broken.executeUpdate();
            }
        }

        Flyway.configure().dataSource(dataSource).locations("classpath:db/migration").javaMigrations(new V24__BackfillRequestedGpus()).load().migrate();

        Map<String, Long> requested = new TreeMap<>();
        try (Connection connection = dataSource.getConnection(); Statement statement = connection.createStatement();
                ResultSet row = statement.executeQuery("SELECT id, requested_milli FROM experiments")) {
            while (row.next()) {
                requested.put(row.getString(1), row.getLong(2));
            }
            assertThat(requested).containsExactlyEntriesOf(new TreeMap<>(Map.of(
                    "exp-old0000001", 500L, "exp-old0000002", 4000L, "exp-old0000003", 0L, "exp-old0000004", 0L)));
            assertThatThrownBy(() -> statement.execute("INSERT INTO experiments (id, project, name, spec, state, reason) "
                    + "VALUES ('exp-new0000001', 'vision', 'new', '\\x00', 'PENDING', 'new')"))
                    .hasMessageContaining("requested_milli");
        }
    }

    private static byte[] spec(GpuRequest.Builder gpu, int replicas)
    {
        var request = Specs.named("old", "vision");
        request = request.toBuilder().setReplicas(replicas).setResources(request.getResources().toBuilder().setGpu(gpu)).build();
        return ExperimentSpecs.toStored(ExperimentSpecs.fromRequest(request));
    }

    private static void insert(Connection connection, String id, byte[] spec)
            throws Exception
    {
        try (PreparedStatement insert = connection.prepareStatement(
                "INSERT INTO experiments (id, project, name, spec, state, reason) VALUES (?, 'vision', ?, ?, 'PENDING', 'old')")) {
            insert.setString(1, id);
            insert.setString(2, id);
            insert.setBytes(3, spec);
            insert.executeUpdate();
        }
    }
}

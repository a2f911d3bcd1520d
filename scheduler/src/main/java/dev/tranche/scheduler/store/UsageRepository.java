package dev.tranche.scheduler.store;

import dev.tranche.scheduler.errors.StoreException;
import dev.tranche.scheduler.usage.UsageStore;

import javax.sql.DataSource;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/**
 * Usage samples in PostgreSQL (V22): taken by one statement each, at the database's own minute; a
 * second sample within a minute (another recorder, a restart, a test) replaces that minute's row.
 */
public final class UsageRepository
        implements UsageStore
{
    private final DataSource dataSource;

    public UsageRepository(DataSource dataSource)
    {
        this.dataSource = requireNonNull(dataSource, "dataSource is null");
    }

    @Override
    public List<ProjectSample> sample(Duration retention)
    {
        try (Connection connection = dataSource.getConnection()) {
            connection.setAutoCommit(false);
            try {
                List<ProjectSample> sample = new ArrayList<>();
                // held: GPUs of SCHEDULED and RUNNING experiments (their allocations); pending: PENDING experiments
                try (PreparedStatement projects = connection.prepareStatement("""
                        INSERT INTO usage_samples (at, project, held_milli, deserved_milli, pending, pending_milli)
                        SELECT date_trunc('minute', now()), p.name, coalesce(h.milli, 0), p.deserved_milli, coalesce(q.waiting, 0), coalesce(q.milli, 0)
                        FROM projects p
                        LEFT JOIN (SELECT e.project, sum(a.milli) AS milli FROM gpu_allocations a JOIN experiments e ON e.id = a.experiment_id
                                   GROUP BY e.project) h ON h.project = p.name
                        LEFT JOIN (SELECT project, count(*) AS waiting, sum(requested_milli) AS milli FROM experiments WHERE state = 'PENDING'
                                   GROUP BY project) q ON q.project = p.name
                        ON CONFLICT (project, at) DO UPDATE SET held_milli = EXCLUDED.held_milli, deserved_milli = EXCLUDED.deserved_milli,
                            pending = EXCLUDED.pending, pending_milli = EXCLUDED.pending_milli
                        RETURNING at, project, held_milli, deserved_milli, pending, pending_milli""");
                        ResultSet row = projects.executeQuery()) {
                    while (row.next()) {
                        sample.add(new ProjectSample(row.getTimestamp(1).toInstant(), row.getString(2), row.getLong(3), row.getLong(4), row.getInt(5), row.getLong(6)));
                    }
                }
                try (PreparedStatement cluster = connection.prepareStatement("""
                        INSERT INTO cluster_usage_samples (at, capacity_milli, allocated_milli)
                        SELECT date_trunc('minute', now()),
                               (SELECT count(*) * 1000 FROM gpus g JOIN nodes n ON n.name = g.node WHERE n.schedulable),
                               (SELECT coalesce(sum(milli), 0) FROM gpu_allocations)
                        ON CONFLICT (at) DO UPDATE SET capacity_milli = EXCLUDED.capacity_milli, allocated_milli = EXCLUDED.allocated_milli""")) {
                    cluster.executeUpdate();
                }
                try (PreparedStatement expire = connection.prepareStatement("DELETE FROM usage_samples WHERE at < now() - ?::interval");
                        PreparedStatement expireCluster = connection.prepareStatement("DELETE FROM cluster_usage_samples WHERE at < now() - ?::interval")) {
                    String interval = retention.toSeconds() + " seconds";
                    expire.setString(1, interval);
                    expire.executeUpdate();
                    expireCluster.setString(1, interval);
                    expireCluster.executeUpdate();
                }
                connection.commit();
                return sample;
            }
            catch (SQLException | RuntimeException e) {
                connection.rollback();
                throw e;
            }
        }
        catch (SQLException e) {
            throw new StoreException("could not record usage", e);
        }
    }

    @Override
    public UsageHistory history(Instant since, Optional<Set<String>> projects, Duration step)
    {
        long bucket = Math.max(60, step.toSeconds());
        Timestamp from = Timestamp.from(since);
        String[] names = projects.map(set -> set.toArray(String[]::new)).orElse(null);
        try (Connection connection = dataSource.getConnection()) {
            connection.setReadOnly(true);
            List<ProjectSample> samples = new ArrayList<>();
            try (PreparedStatement select = connection.prepareStatement("""
                    SELECT to_timestamp(floor(extract(epoch FROM at) / ?) * ?) AS bucket, project, round(avg(held_milli))::bigint,
                           round(avg(deserved_milli))::bigint, max(pending), round(avg(pending_milli))::bigint
                    FROM usage_samples
                    WHERE at >= ? AND (?::text[] IS NULL OR project = ANY (?::text[])) GROUP BY 1, 2 ORDER BY project, 1""")) {
                select.setLong(1, bucket);
                select.setLong(2, bucket);
                select.setTimestamp(3, from);
                select.setArray(4, names == null ? null : connection.createArrayOf("text", names));
                select.setArray(5, names == null ? null : connection.createArrayOf("text", names));
                try (ResultSet row = select.executeQuery()) {
                    while (row.next()) {
                        samples.add(new ProjectSample(row.getTimestamp(1).toInstant(), row.getString(2), row.getLong(3), row.getLong(4), row.getInt(5), row.getLong(6)));
                    }
                }
            }
            List<ClusterSample> cluster = new ArrayList<>();
            try (PreparedStatement select = connection.prepareStatement("""
                    SELECT to_timestamp(floor(extract(epoch FROM at) / ?) * ?), round(avg(capacity_milli))::bigint, round(avg(allocated_milli))::bigint
                    FROM cluster_usage_samples WHERE at >= ? GROUP BY 1 ORDER BY 1""")) {
                select.setLong(1, bucket);
                select.setLong(2, bucket);
                select.setTimestamp(3, from);
                try (ResultSet row = select.executeQuery()) {
                    while (row.next()) {
                        cluster.add(new ClusterSample(row.getTimestamp(1).toInstant(), row.getLong(2), row.getLong(3)));
                    }
                }
            }
            List<DailyWait> waits = new ArrayList<>();
            // an experiment's wait: from submission to its first start (later waits after a preemption are not counted)
            try (PreparedStatement select = connection.prepareStatement("""
                    WITH first_start AS (
                        SELECT t.experiment_id, min(t.at) AS at FROM experiment_transitions t
                        WHERE t.to_state = 'SCHEDULED' AND t.at >= ? GROUP BY t.experiment_id)
                    SELECT (f.at AT TIME ZONE 'UTC')::date AS day, e.project, count(*),
                           percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM f.at - e.created_at)),
                           percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM f.at - e.created_at))
                    FROM first_start f JOIN experiments e ON e.id = f.experiment_id
                    WHERE NOT EXISTS (SELECT 1 FROM experiment_transitions earlier
                                      WHERE earlier.experiment_id = f.experiment_id AND earlier.to_state = 'SCHEDULED' AND earlier.at < ?)
                      AND (?::text[] IS NULL OR e.project = ANY (?::text[]))
                    GROUP BY 1, 2 ORDER BY 1, 2""")) {
                select.setTimestamp(1, from);
                select.setTimestamp(2, from);
                select.setArray(3, names == null ? null : connection.createArrayOf("text", names));
                select.setArray(4, names == null ? null : connection.createArrayOf("text", names));
                try (ResultSet row = select.executeQuery()) {
                    while (row.next()) {
                        waits.add(new DailyWait(row.getObject(1, java.time.LocalDate.class), row.getString(2), row.getInt(3), row.getDouble(4), row.getDouble(5)));
                    }
                }
            }
            return new UsageHistory(samples, cluster, waits, Duration.ofSeconds(bucket));
        }
        catch (SQLException e) {
            throw new StoreException("could not read usage", e);
        }
    }
}

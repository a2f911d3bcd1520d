package dev.tranche.scheduler.store;

import dev.tranche.scheduler.errors.StoreException;
import dev.tranche.scheduler.metrics.MetricSample;
import dev.tranche.scheduler.metrics.MetricsStore;

import javax.sql.DataSource;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;

import static java.util.Objects.requireNonNull;

/** Metric points in PostgreSQL, written a batch per statement. */
public final class MetricsRepository
        implements MetricsStore
{
    // One statement per batch; a step seen again (after a resume) takes the new value.
    private static final String UPSERT = """
            INSERT INTO metrics (experiment_id, name, step, epoch, value, at)
            SELECT ?, name, step, epoch, value, at
            FROM unnest(?::text[], ?::bigint[], ?::int[], ?::float8[], ?::timestamptz[]) AS p (name, step, epoch, value, at)
            ON CONFLICT (experiment_id, name, step) DO UPDATE SET epoch = EXCLUDED.epoch, value = EXCLUDED.value, at = EXCLUDED.at""";

    private final DataSource dataSource;

    public MetricsRepository(DataSource dataSource)
    {
        this.dataSource = requireNonNull(dataSource, "dataSource is null");
    }

    /** Stores the points of one experiment; the same (name, step) twice in one batch keeps the last. */
    @Override
    public int store(String experimentId, List<MetricSample> points)
    {
        if (points.isEmpty()) {
            return 0;
        }
        // ON CONFLICT may not touch one row twice in a statement: keep the last of each (name, step)
        java.util.Collection<MetricSample> unique = distinctSteps(points);
        int n = unique.size();
        String[] names = new String[n];
        Long[] steps = new Long[n];
        Integer[] epochs = new Integer[n];
        Double[] values = new Double[n];
        Timestamp[] times = new Timestamp[n];
        int i = 0;
        for (MetricSample point : unique) {
            names[i] = point.name();
            steps[i] = point.step();
            epochs[i] = point.epoch();
            values[i] = point.value();
            times[i] = Timestamp.from(point.at());
            i++;
        }
        try (Connection connection = dataSource.getConnection();
                PreparedStatement upsert = connection.prepareStatement(UPSERT)) {
            upsert.setString(1, experimentId);
            upsert.setArray(2, connection.createArrayOf("text", names));
            upsert.setArray(3, connection.createArrayOf("bigint", steps));
            upsert.setArray(4, connection.createArrayOf("int4", epochs));
            upsert.setArray(5, connection.createArrayOf("float8", values));
            upsert.setArray(6, connection.createArrayOf("timestamptz", times));
            upsert.executeUpdate();
            return points.size();
        }
        catch (SQLException e) {
            throw new StoreException("could not store " + n + " metric points of experiment " + experimentId, e);
        }
    }

    private static java.util.Collection<MetricSample> distinctSteps(List<MetricSample> points)
    {
        // the usual batch has rising steps per series: nothing to do
        java.util.Map<String, Long> lastStep = new java.util.HashMap<>();
        boolean rising = true;
        for (MetricSample point : points) {
            Long last = lastStep.put(point.name(), point.step());
            if (last != null && last >= point.step()) {
                rising = false;
                break;
            }
        }
        if (rising) {
            return points;
        }
        java.util.LinkedHashMap<String, MetricSample> unique = new java.util.LinkedHashMap<>();
        for (MetricSample point : points) {
            unique.remove(point.name() + "\0" + point.step());
            unique.put(point.name() + "\0" + point.step(), point);
        }
        return unique.values();
    }

    /** Points after {@code afterStep}, by name then step, at most {@code limit}. */
    @Override
    public List<MetricSample> read(String experimentId, List<String> names, long afterStep, int limit)
    {
        String sql = "SELECT name, step, epoch, value, at FROM metrics WHERE experiment_id = ? AND step > ?"
                + (names.isEmpty() ? "" : " AND name = ANY (?)") + " ORDER BY name, step LIMIT ?";
        try (Connection connection = dataSource.getConnection();
                PreparedStatement select = connection.prepareStatement(sql)) {
            int parameter = 1;
            select.setString(parameter++, experimentId);
            select.setLong(parameter++, afterStep);
            if (!names.isEmpty()) {
                select.setArray(parameter++, connection.createArrayOf("text", names.toArray(String[]::new)));
            }
            select.setInt(parameter, limit);
            List<MetricSample> points = new ArrayList<>();
            try (ResultSet row = select.executeQuery()) {
                while (row.next()) {
                    points.add(new MetricSample(experimentId, row.getString(1), row.getLong(2), row.getInt(3), row.getDouble(4), row.getTimestamp(5).toInstant()));
                }
            }
            return points;
        }
        catch (SQLException e) {
            throw new StoreException("could not read the metrics of experiment " + experimentId, e);
        }
    }

    /**
     * Points for a chart of at most about {@code threshold} points per series. A long series is first
     * reduced in the database to the lowest and highest value of each of {@code 2 x threshold} step
     * buckets (so a million-point series costs one aggregate, not a million rows); the caller then
     * picks the final points with LTTB. Short series come back whole.
     */
    @Override
    public List<MetricSample> forChart(String experimentId, List<String> names, long afterStep, int threshold)
    {
        try (Connection connection = dataSource.getConnection()) {
            // each series' step range: with names given, two index probes per series instead of a scan
            java.util.Map<String, long[]> ranges = new java.util.TreeMap<>();
            List<String> seriesNames = names.isEmpty() ? seriesNames(connection, experimentId) : names;
            try (PreparedStatement range = connection.prepareStatement(
                    "SELECT min(step), max(step) FROM metrics WHERE experiment_id = ? AND name = ? AND step > ?")) {
                for (String name : seriesNames) {
                    range.setString(1, experimentId);
                    range.setString(2, name);
                    range.setLong(3, afterStep);
                    try (ResultSet row = range.executeQuery()) {
                        row.next();
                        long low = row.getLong(1);
                        if (!row.wasNull()) {
                            ranges.put(name, new long[] {low, row.getLong(2)});
                        }
                    }
                }
            }
            List<String> small = new ArrayList<>();
            List<String> large = new ArrayList<>();
            ranges.forEach((name, range) -> (range[1] - range[0] + 1 <= 4L * threshold ? small : large).add(name));
            List<MetricSample> points = new ArrayList<>();
            if (!small.isEmpty()) {
                points.addAll(read(experimentId, small, afterStep, Integer.MAX_VALUE));
            }
            if (!large.isEmpty()) {
                try (PreparedStatement buckets = connection.prepareStatement("""
                        SELECT m.name, width_bucket(m.step, b.low, b.high + 1, ?) AS bucket, min(m.step), max(m.step), min(m.value), max(m.value),
                               max(m.epoch), max(m.at)
                        FROM metrics m JOIN unnest(?::text[], ?::bigint[], ?::bigint[]) AS b (name, low, high) ON b.name = m.name
                        WHERE m.experiment_id = ? AND m.step > ?
                        GROUP BY m.name, bucket""")) {
                    buckets.setInt(1, 2 * threshold);
                    buckets.setArray(2, connection.createArrayOf("text", large.toArray(String[]::new)));
                    buckets.setArray(3, connection.createArrayOf("bigint", large.stream().map(name -> ranges.get(name)[0]).toArray(Long[]::new)));
                    buckets.setArray(4, connection.createArrayOf("bigint", large.stream().map(name -> ranges.get(name)[1]).toArray(Long[]::new)));
                    buckets.setString(5, experimentId);
                    buckets.setLong(6, afterStep);
                    try (ResultSet row = buckets.executeQuery()) {
                        while (row.next()) {
                            // the bucket's envelope: its lowest and highest value, at its first and last step
                            String name = row.getString(1);
                            long firstStep = row.getLong(3);
                            long lastStep = row.getLong(4);
                            java.time.Instant at = row.getTimestamp(8).toInstant();
                            points.add(new MetricSample(experimentId, name, firstStep, row.getInt(7), row.getDouble(5), at));
                            if (lastStep != firstStep) {
                                points.add(new MetricSample(experimentId, name, lastStep, row.getInt(7), row.getDouble(6), at));
                            }
                        }
                    }
                }
            }
            points.sort(java.util.Comparator.comparing(MetricSample::name).thenComparingLong(MetricSample::step));
            return points;
        }
        catch (SQLException e) {
            throw new StoreException("could not read the metrics of experiment " + experimentId + " for a chart", e);
        }
    }

    private static List<String> seriesNames(Connection connection, String experimentId)
            throws SQLException
    {
        try (PreparedStatement select = connection.prepareStatement("SELECT DISTINCT name FROM metrics WHERE experiment_id = ? ORDER BY name")) {
            select.setString(1, experimentId);
            List<String> names = new ArrayList<>();
            try (ResultSet row = select.executeQuery()) {
                while (row.next()) {
                    names.add(row.getString(1));
                }
            }
            return names;
        }
    }

    /** The newest point of each series. */
    @Override
    public List<MetricSample> latest(String experimentId, List<String> names)
    {
        String sql = "SELECT DISTINCT ON (name) name, step, epoch, value, at FROM metrics WHERE experiment_id = ?"
                + (names.isEmpty() ? "" : " AND name = ANY (?)") + " ORDER BY name, step DESC";
        try (Connection connection = dataSource.getConnection();
                PreparedStatement select = connection.prepareStatement(sql)) {
            select.setString(1, experimentId);
            if (!names.isEmpty()) {
                select.setArray(2, connection.createArrayOf("text", names.toArray(String[]::new)));
            }
            List<MetricSample> points = new ArrayList<>();
            try (ResultSet row = select.executeQuery()) {
                while (row.next()) {
                    points.add(new MetricSample(experimentId, row.getString(1), row.getLong(2), row.getInt(3), row.getDouble(4), row.getTimestamp(5).toInstant()));
                }
            }
            return points;
        }
        catch (SQLException e) {
            throw new StoreException("could not read the latest metrics of experiment " + experimentId, e);
        }
    }

    /** The newest epoch each experiment has reported anything for; experiments without metrics are left out. */
    @Override
    public java.util.Map<String, Integer> latestEpochs(java.util.Collection<String> experimentIds)
    {
        if (experimentIds.isEmpty()) {
            return java.util.Map.of();
        }
        try (Connection connection = dataSource.getConnection();
                PreparedStatement select = connection.prepareStatement(
                        "SELECT e.id, (SELECT max(m.epoch) FROM metrics m WHERE m.experiment_id = e.id) FROM unnest(?::text[]) AS e (id)")) {
            select.setArray(1, connection.createArrayOf("text", experimentIds.toArray(String[]::new)));
            java.util.Map<String, Integer> epochs = new java.util.HashMap<>();
            try (ResultSet row = select.executeQuery()) {
                while (row.next()) {
                    int epoch = row.getInt(2);
                    if (!row.wasNull()) {
                        epochs.put(row.getString(1), epoch);
                    }
                }
            }
            return epochs;
        }
        catch (SQLException e) {
            throw new StoreException("could not read the progress of " + experimentIds.size() + " experiments", e);
        }
    }
}

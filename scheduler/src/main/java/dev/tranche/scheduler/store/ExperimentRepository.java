package dev.tranche.scheduler.store;

import dev.tranche.scheduler.experiment.ExperimentSpec;
import dev.tranche.scheduler.errors.NotFoundException;
import dev.tranche.scheduler.errors.StateConflictException;
import dev.tranche.scheduler.errors.StoreException;
import dev.tranche.scheduler.experiment.ExperimentChange;
import dev.tranche.scheduler.experiment.ExperimentPage;
import dev.tranche.scheduler.experiment.ExperimentQuery;
import dev.tranche.scheduler.experiment.ExperimentRecord;
import dev.tranche.scheduler.experiment.ExperimentState;
import dev.tranche.scheduler.experiment.ExperimentStore;
import dev.tranche.scheduler.experiment.FitCheck;
import dev.tranche.scheduler.experiment.Transition;
import dev.tranche.scheduler.experiment.Waiting;
import dev.tranche.scheduler.experiment.WaitingReason;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/**
 * Experiments and their timelines in PostgreSQL. Every write is one transaction that changes the
 * experiment and appends its transition together, so the timeline never disagrees with the state.
 */
public final class ExperimentRepository
        implements ExperimentStore
{
    private static final Logger log = LoggerFactory.getLogger(ExperimentRepository.class);
    /**
     * GPU-seconds of the experiment's attempt holding GPUs now, up to this transaction's start: each
     * replica's GPU milli times how long it has been placed. The unqualified {@code id} is the
     * experiment row of the enclosing query (the joined tables have no such column).
     */
    private static final String CURRENT_ATTEMPT_GPU_SECONDS = "coalesce((SELECT floor(sum(a.milli * greatest(0, extract(epoch FROM now() - p.placed_at))) / 1000)::bigint"
            + " FROM gpu_allocations a JOIN replica_placements p ON p.experiment_id = a.experiment_id AND p.replica = a.replica"
            + " WHERE a.experiment_id = id), 0)";
    static final String COLUMNS = "id, seq, spec, state, reason, request_id, version, created_at, updated_at, "
            + "waiting_reason, waiting_fit_checks, waiting_fit_nodes, waiting_fitting_nodes, attempts, failed_attempts, "
            + "attained_gpu_seconds + " + CURRENT_ATTEMPT_GPU_SECONDS + " AS attained_now";
    private static final String FOREIGN_KEY_VIOLATION = "23503";
    private static final String UNIQUE_VIOLATION = "23505";

    // One round trip: the experiment and its first transition, or nothing when the request id was seen.
    private static final String INSERT = """
            WITH inserted AS (
                INSERT INTO experiments (id, project, name, request_id, spec, state, reason, requested_milli)
                VALUES (?, ?, ?, ?, ?, 'PENDING', ?, ?)
                ON CONFLICT (project, request_id) DO NOTHING
                RETURNING id, seq, version, created_at, updated_at),
            timeline AS (
                INSERT INTO experiment_transitions (experiment_id, from_state, to_state, reason, at)
                SELECT id, NULL, 'PENDING', ?, created_at FROM inserted)
            SELECT seq, version, created_at, updated_at FROM inserted""";

    // The same for many at once (group commit): one statement, one transaction, one WAL flush.
    private static final String INSERT_MANY = """
            WITH inserted AS (
                INSERT INTO experiments (id, project, name, request_id, spec, state, reason, requested_milli)
                SELECT id, project, name, request_id, spec, 'PENDING', reason, requested_milli
                FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::bytea[], ?::text[], ?::bigint[])
                    AS n (id, project, name, request_id, spec, reason, requested_milli)
                ON CONFLICT (project, request_id) DO NOTHING
                RETURNING id, seq, version, created_at, updated_at, reason),
            timeline AS (
                INSERT INTO experiment_transitions (experiment_id, from_state, to_state, reason, at)
                SELECT id, NULL, 'PENDING', reason, created_at FROM inserted)
            SELECT id, seq, version, created_at, updated_at FROM inserted""";

    private final DataSource dataSource;

    /** GPU-seconds of the attempt that releases its GPUs now: each replica's GPU milli times how long it was placed. */
    private static final String ATTAIN_ON_RELEASE = "UPDATE experiments SET attained_gpu_seconds = attained_gpu_seconds + "
            + CURRENT_ATTEMPT_GPU_SECONDS + " WHERE id = ?";

    public ExperimentRepository(DataSource dataSource)
    {
        this.dataSource = requireNonNull(dataSource, "dataSource is null");
    }

    /** Outcome of an insert: the stored experiment, or the one stored earlier under the same request id. */
    /**
     * Stores a new PENDING experiment. With a request id already used in the project, stores nothing
     * and returns the earlier experiment. Unknown project: {@link NotFoundException}. A clash of the
     * random id: retried by the caller with a new id ({@link IdClashException}).
     */
    @Override
    public Inserted insert(String id, ExperimentSpec spec, Optional<String> requestId, String reason)
    {
        try (Connection connection = dataSource.getConnection();
                PreparedStatement insert = connection.prepareStatement(INSERT)) {
            insert.setString(1, id);
            insert.setString(2, spec.project());
            insert.setString(3, spec.name());
            insert.setString(4, requestId.orElse(null));
            insert.setBytes(5, StoredSpecs.encode(spec));
            insert.setString(6, reason);
            insert.setLong(7, spec.requestedMilli());
            insert.setString(8, reason);
            try (ResultSet row = insert.executeQuery()) {
                if (row.next()) {
                    ExperimentRecord record = new ExperimentRecord(id, row.getLong(1), spec, ExperimentState.PENDING, reason, requestId,
                            row.getLong(2), instant(row, 3), instant(row, 4), Optional.empty(), 0, 0, 0);
                    return new Inserted(record, true);
                }
            }
            // only a repeated request id gets here
            return new Inserted(findByRequestId(connection, spec.project(), requestId.orElseThrow()), false);
        }
        catch (SQLException e) {
            if (FOREIGN_KEY_VIOLATION.equals(e.getSQLState())) {
                throw new NotFoundException("project " + spec.project() + " does not exist");
            }
            if (UNIQUE_VIOLATION.equals(e.getSQLState())) {
                throw new IdClashException(id);
            }
            throw new StoreException("could not store experiment " + spec.name(), e);
        }
    }

    /** A new experiment waiting to be stored. */

    /**
     * Stores many new experiments in one transaction; the result has one entry per input, in order.
     * Throws if any row breaks a constraint (an unknown project, an id clash): the caller then stores
     * them one by one with {@link #insert} to learn which.
     */
    @Override
    public List<Inserted> insertAll(List<NewExperiment> batch)
    {
        int n = batch.size();
        String[] ids = new String[n];
        String[] projects = new String[n];
        String[] names = new String[n];
        String[] requestIds = new String[n];
        byte[][] specs = new byte[n][];
        String[] reasons = new String[n];
        Long[] requested = new Long[n];
        for (int i = 0; i < n; i++) {
            NewExperiment experiment = batch.get(i);
            ids[i] = experiment.id();
            projects[i] = experiment.spec().project();
            names[i] = experiment.spec().name();
            requestIds[i] = experiment.requestId().orElse(null);
            specs[i] = StoredSpecs.encode(experiment.spec());
            reasons[i] = experiment.reason();
            requested[i] = experiment.spec().requestedMilli();
        }
        try (Connection connection = dataSource.getConnection()) {
            // one transaction until every answer is read: a failure after the INSERT (looking up a
            // repeated request id) must store nothing, since the caller then stores the rows one by
            // one, and rows already committed would clash with themselves and be stored twice
            connection.setAutoCommit(false);
            try {
                List<Inserted> results = insertAll(connection, batch, ids, projects, names, requestIds, specs, reasons, requested);
                connection.commit();
                return results;
            }
            catch (SQLException | RuntimeException e) {
                connection.rollback();
                throw e;
            }
            finally {
                connection.setAutoCommit(true);
            }
        }
        catch (SQLException e) {
            throw new StoreException("could not store " + n + " experiments", e);
        }
    }

    private static List<Inserted> insertAll(Connection connection, List<NewExperiment> batch, String[] ids, String[] projects, String[] names, String[] requestIds,
            byte[][] specs, String[] reasons, Long[] requested)
            throws SQLException
    {
        try (PreparedStatement insert = connection.prepareStatement(INSERT_MANY)) {
            insert.setArray(1, connection.createArrayOf("text", ids));
            insert.setArray(2, connection.createArrayOf("text", projects));
            insert.setArray(3, connection.createArrayOf("text", names));
            insert.setArray(4, connection.createArrayOf("text", requestIds));
            insert.setArray(5, connection.createArrayOf("bytea", specs));
            insert.setArray(6, connection.createArrayOf("text", reasons));
            insert.setArray(7, connection.createArrayOf("bigint", requested));
            java.util.Map<String, ExperimentRecord> stored = new java.util.HashMap<>();
            try (ResultSet row = insert.executeQuery()) {
                java.util.Map<String, NewExperiment> byId = new java.util.HashMap<>();
                batch.forEach(experiment -> byId.put(experiment.id(), experiment));
                while (row.next()) {
                    NewExperiment experiment = byId.get(row.getString(1));
                    stored.put(experiment.id(), new ExperimentRecord(experiment.id(), row.getLong(2), experiment.spec(), ExperimentState.PENDING,
                            experiment.reason(), experiment.requestId(), row.getLong(3), instant(row, 4), instant(row, 5), Optional.empty(), 0, 0, 0));
                }
            }
            List<Inserted> results = new ArrayList<>(batch.size());
            for (NewExperiment experiment : batch) {
                ExperimentRecord record = stored.get(experiment.id());
                results.add(record != null
                        ? new Inserted(record, true)
                        // a request id seen before (or twice in this batch): the experiment that holds it
                        : new Inserted(findByRequestId(connection, experiment.spec().project(), experiment.requestId().orElseThrow()), false));
            }
            return results;
        }
    }


    @Override
    public Optional<ExperimentRecord> find(String id)
    {
        try (Connection connection = dataSource.getConnection();
                PreparedStatement select = connection.prepareStatement("SELECT " + COLUMNS + " FROM experiments WHERE id = ?")) {
            select.setString(1, id);
            try (ResultSet row = select.executeQuery()) {
                return row.next() ? Optional.of(record(row)) : Optional.empty();
            }
        }
        catch (SQLException e) {
            throw new StoreException("could not read experiment " + id, e);
        }
    }

    @Override
    public List<Transition> history(String id)
    {
        try (Connection connection = dataSource.getConnection();
                PreparedStatement select = connection.prepareStatement(
                        "SELECT from_state, to_state, reason, at FROM experiment_transitions WHERE experiment_id = ? ORDER BY id")) {
            select.setString(1, id);
            List<Transition> history = new ArrayList<>();
            try (ResultSet row = select.executeQuery()) {
                while (row.next()) {
                    String from = row.getString(1);
                    history.add(new Transition(id,
                            from == null ? Optional.empty() : Optional.of(ExperimentState.valueOf(from)),
                            ExperimentState.valueOf(row.getString(2)),
                            row.getString(3),
                            instant(row, 4)));
                }
            }
            return history;
        }
        catch (SQLException e) {
            throw new StoreException("could not read the timeline of experiment " + id, e);
        }
    }

    @Override
    public List<FinishedRun> finishedRuns(Instant since, Instant until, Optional<Set<String>> projects, long afterSequence, int limit)
    {
        // a RUNNING spell lasts until the experiment's next transition; one still open has not finished
        String sql = "SELECT " + COLUMNS + ", r.run_seconds FROM experiments e CROSS JOIN LATERAL ("
                + " SELECT COALESCE(sum(EXTRACT(EPOCH FROM (t.ended - t.at))), 0)::float8 AS run_seconds"
                + " FROM (SELECT to_state, at, lead(at) OVER (ORDER BY id) AS ended FROM experiment_transitions WHERE experiment_id = e.id) t"
                + " WHERE t.to_state = 'RUNNING' AND t.ended IS NOT NULL) r"
                + " WHERE e.state IN ('SUCCEEDED', 'FAILED', 'CANCELLED') AND e.created_at >= ? AND e.created_at < ? AND e.seq > ?"
                + " AND r.run_seconds > 0"
                + (projects.isPresent() ? " AND e.project = ANY (?)" : "")
                + " ORDER BY e.seq LIMIT ?";
        try (Connection connection = dataSource.getConnection();
                PreparedStatement select = connection.prepareStatement(sql)) {
            int parameter = 1;
            select.setTimestamp(parameter++, Timestamp.from(since));
            select.setTimestamp(parameter++, Timestamp.from(until));
            select.setLong(parameter++, afterSequence);
            if (projects.isPresent()) {
                select.setArray(parameter++, connection.createArrayOf("text", projects.get().toArray(String[]::new)));
            }
            select.setInt(parameter, limit);
            List<FinishedRun> runs = new ArrayList<>();
            try (ResultSet row = select.executeQuery()) {
                while (row.next()) {
                    runs.add(new FinishedRun(record(row), row.getDouble("run_seconds")));
                }
            }
            return runs;
        }
        catch (SQLException e) {
            throw new StoreException("could not read the finished experiments", e);
        }
    }

    @Override
    public ExperimentPage list(ExperimentQuery query)
    {
        List<ExperimentRecord> experiments = select(query.projects(), query.states(), query.beforeSequence().isPresent() ? " AND seq < ?" : "",
                query.beforeSequence().isPresent() ? List.of(query.beforeSequence().getAsLong()) : List.of(), "DESC", query.limit() + 1);
        if (experiments.size() > query.limit()) {
            experiments.remove(experiments.size() - 1);
            return new ExperimentPage(experiments, OptionalLong.of(experiments.get(experiments.size() - 1).sequence()));
        }
        return new ExperimentPage(experiments, OptionalLong.empty());
    }

    @Override
    public List<ExperimentRecord> listOldestFirst(Optional<Set<String>> projects, Set<ExperimentState> states, long afterSequence, int limit)
    {
        return select(projects, states, " AND seq > ?", List.of(afterSequence), "ASC", limit);
    }

    private List<ExperimentRecord> select(Optional<Set<String>> projects, Set<ExperimentState> states, String cursor, List<Object> cursorParameters,
            String order, int limit)
    {
        StringBuilder sql = new StringBuilder("SELECT " + COLUMNS + " FROM experiments WHERE true");
        List<Object> parameters = new ArrayList<>();
        projects.ifPresent(visible -> {
            sql.append(" AND project = ANY (?)");
            parameters.add(visible.toArray(String[]::new));
        });
        if (!states.isEmpty()) {
            sql.append(" AND state = ANY (?)");
            parameters.add(states.stream().map(Enum::name).toArray(String[]::new));
        }
        sql.append(cursor);
        parameters.addAll(cursorParameters);
        sql.append(" ORDER BY seq ").append(order).append(" LIMIT ?");
        parameters.add(limit);
        try (Connection connection = dataSource.getConnection();
                PreparedStatement select = connection.prepareStatement(sql.toString())) {
            for (int i = 0; i < parameters.size(); i++) {
                Object parameter = parameters.get(i);
                if (parameter instanceof String[] array) {
                    select.setArray(i + 1, connection.createArrayOf("text", array));
                }
                else {
                    select.setObject(i + 1, parameter);
                }
            }
            List<ExperimentRecord> experiments = new ArrayList<>();
            try (ResultSet row = select.executeQuery()) {
                while (row.next()) {
                    experiments.add(record(row));
                }
            }
            return experiments;
        }
        catch (SQLException e) {
            throw new StoreException("could not list experiments", e);
        }
    }

    /**
     * Moves an experiment to {@code to} if its current state is one of {@code from}; the row is locked
     * so concurrent transitions of one experiment serialise. Returns the change for watchers.
     */
    @Override
    public ExperimentChange transition(String id, Set<ExperimentState> from, ExperimentState to, String reason)
    {
        try (Connection connection = dataSource.getConnection()) {
            connection.setAutoCommit(false);
            try {
                ExperimentChange change = transition(connection, id, from, to, reason);
                connection.commit();
                return change;
            }
            catch (RuntimeException | SQLException e) {
                connection.rollback();
                throw e;
            }
        }
        catch (SQLException e) {
            throw new StoreException("could not change the state of experiment " + id, e);
        }
    }

    /** Like {@link #transition}, and counts one more failed attempt in the same transaction. */
    public ExperimentChange transitionAfterFailure(String id, Set<ExperimentState> from, ExperimentState to, String reason)
    {
        try (Connection connection = dataSource.getConnection()) {
            connection.setAutoCommit(false);
            try {
                ExperimentChange change = transition(connection, id, from, to, reason, Counted.FAILED_ATTEMPT);
                connection.commit();
                return change;
            }
            catch (RuntimeException | SQLException e) {
                connection.rollback();
                throw e;
            }
        }
        catch (SQLException e) {
            throw new StoreException("could not change the state of experiment " + id, e);
        }
    }

    public int failedAttempts(String id)
    {
        try (Connection connection = dataSource.getConnection();
                PreparedStatement select = connection.prepareStatement("SELECT failed_attempts FROM experiments WHERE id = ?")) {
            select.setString(1, id);
            try (ResultSet row = select.executeQuery()) {
                return row.next() ? row.getInt(1) : 0;
            }
        }
        catch (SQLException e) {
            throw new StoreException("could not read the attempts of experiment " + id, e);
        }
    }

    /**
     * The same inside the caller's transaction. Leaving the states that hold GPUs gives them back in the
     * same transaction, so an experiment never holds GPUs it is not entitled to.
     */
    static ExperimentChange transition(Connection connection, String id, Set<ExperimentState> from, ExperimentState to, String reason)
            throws SQLException
    {
        return transition(connection, id, from, to, reason, Counted.NOTHING);
    }

    /** What a transition counts besides the change of state. */
    enum Counted
    {
        NOTHING,
        /** A placement: the experiment's next run attempt (the record after it carries its number). */
        NEW_ATTEMPT,
        /** An attempt that failed, which uses up one of the experiment's retries. */
        FAILED_ATTEMPT,
    }

    /** Like {@link #transition(Connection, String, Set, ExperimentState, String)}, counting what {@code counted} says in the same update. */
    static ExperimentChange transition(Connection connection, String id, Set<ExperimentState> from, ExperimentState to, String reason, Counted counted)
            throws SQLException
    {
        ExperimentRecord current;
        try (PreparedStatement lock = connection.prepareStatement("SELECT " + COLUMNS + " FROM experiments WHERE id = ? FOR UPDATE")) {
            lock.setString(1, id);
            try (ResultSet row = lock.executeQuery()) {
                if (!row.next()) {
                    throw new NotFoundException("experiment " + id + " does not exist");
                }
                current = record(row);
            }
        }
        if (!from.contains(current.state()) || !current.state().canMoveTo(to)) {
            throw new StateConflictException("experiment " + id + " is " + current.state() + "; it cannot become " + to);
        }
        Instant updatedAt;
        int attempts;
        int failedAttempts;
        try (PreparedStatement update = connection.prepareStatement(
                "UPDATE experiments SET state = ?, reason = ?, version = version + 1, updated_at = clock_timestamp(), "
                        // a new state: whatever a cycle said of the experiment's wait before no longer holds
                        + "waiting_reason = NULL, waiting_fit_checks = NULL, waiting_fit_nodes = NULL, waiting_fitting_nodes = NULL, "
                        + "attempts = attempts + ?, failed_attempts = failed_attempts + ? "
                        + "WHERE id = ? RETURNING updated_at, attempts, failed_attempts")) {
            update.setString(1, to.name());
            update.setString(2, reason);
            update.setInt(3, counted == Counted.NEW_ATTEMPT ? 1 : 0);
            update.setInt(4, counted == Counted.FAILED_ATTEMPT ? 1 : 0);
            update.setString(5, id);
            try (ResultSet row = update.executeQuery()) {
                row.next();
                updatedAt = instant(row, 1);
                attempts = row.getInt(2);
                failedAttempts = row.getInt(3);
            }
        }
        try (PreparedStatement append = connection.prepareStatement(
                "INSERT INTO experiment_transitions (experiment_id, from_state, to_state, reason, at) VALUES (?, ?, ?, ?, ?)")) {
            append.setString(1, id);
            append.setString(2, current.state().name());
            append.setString(3, to.name());
            append.setString(4, reason);
            append.setTimestamp(5, Timestamp.from(updatedAt));
            append.executeUpdate();
        }
        if (!to.holdsGpus()) {
            // the attempt ends: its GPU service counts towards the experiment's attained service
            try (PreparedStatement attained = connection.prepareStatement(ATTAIN_ON_RELEASE)) {
                attained.setString(1, id);
                attained.executeUpdate();
            }
            try (PreparedStatement release = connection.prepareStatement("DELETE FROM replica_placements WHERE experiment_id = ?")) {
                release.setString(1, id);
                release.executeUpdate();
            }
        }
        ExperimentRecord after = new ExperimentRecord(current.id(), current.sequence(), current.spec(), to, reason, current.requestId(),
                current.version() + 1, current.createdAt(), updatedAt, Optional.empty(), current.attainedGpuSeconds(), attempts, failedAttempts);
        return new ExperimentChange(after, new Transition(id, Optional.of(current.state()), to, reason, updatedAt));
    }

    private static ExperimentRecord findByRequestId(Connection connection, String project, String requestId)
            throws SQLException
    {
        try (PreparedStatement select = connection.prepareStatement("SELECT " + COLUMNS + " FROM experiments WHERE project = ? AND request_id = ?")) {
            select.setString(1, project);
            select.setString(2, requestId);
            try (ResultSet row = select.executeQuery()) {
                if (!row.next()) {
                    throw new SQLException("request id " + requestId + " clashed but no experiment holds it");
                }
                return record(row);
            }
        }
    }

    static ExperimentRecord record(ResultSet row)
            throws SQLException
    {
        ExperimentSpec spec = StoredSpecs.decode(row.getBytes("spec"), row.getString("id"));
        return new ExperimentRecord(
                row.getString("id"),
                row.getLong("seq"),
                spec,
                ExperimentState.valueOf(row.getString("state")),
                row.getString("reason"),
                Optional.ofNullable(row.getString("request_id")),
                row.getLong("version"),
                instant(row, "created_at"),
                instant(row, "updated_at"),
                waiting(row),
                row.getLong("attained_now"),
                row.getInt("attempts"),
                row.getInt("failed_attempts"));
    }

    private static Optional<Waiting> waiting(ResultSet row)
            throws SQLException
    {
        String reason = row.getString("waiting_reason");
        if (reason == null) {
            return Optional.empty();
        }
        String id = row.getString("id");
        try {
            Map<FitCheck, Integer> failing = new EnumMap<>(FitCheck.class);
            java.sql.Array checks = row.getArray("waiting_fit_checks");
            java.sql.Array nodes = row.getArray("waiting_fit_nodes");
            if (checks != null && nodes != null) {
                Object[] names = (Object[]) checks.getArray();
                Object[] counts = (Object[]) nodes.getArray();
                for (int i = 0; i < names.length; i++) {
                    failing.put(FitCheck.valueOf((String) names[i]), ((Number) counts[i]).intValue());
                }
            }
            String sentence = row.getString("reason");
            if (sentence.startsWith(PlacementWriter.WAITING_PREFIX)) {
                sentence = sentence.substring(PlacementWriter.WAITING_PREFIX.length());
            }
            return Optional.of(new Waiting(WaitingReason.valueOf(reason), sentence, failing, row.getInt("waiting_fitting_nodes")));
        }
        catch (IllegalArgumentException e) {
            // a name this version does not know (written by a newer one): the sentence still says why
            log.warn("experiment {} has a waiting reason this version cannot read ({}); showing it as QUEUED", id, e.getMessage());
            return Optional.empty();
        }
    }

    private static Instant instant(ResultSet row, int column)
            throws SQLException
    {
        return row.getTimestamp(column).toInstant();
    }

    private static Instant instant(ResultSet row, String column)
            throws SQLException
    {
        return row.getTimestamp(column).toInstant();
    }
}

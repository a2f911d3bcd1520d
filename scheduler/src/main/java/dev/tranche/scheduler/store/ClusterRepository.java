package dev.tranche.scheduler.store;

import dev.tranche.scheduler.core.model.DepartmentQuota;
import dev.tranche.scheduler.core.model.Gpu;
import dev.tranche.scheduler.core.model.Node;
import dev.tranche.scheduler.core.model.ProjectQuota;
import dev.tranche.scheduler.core.model.ReplicaPlacement;
import dev.tranche.scheduler.errors.StoreException;
import dev.tranche.scheduler.experiment.ExperimentState;
import dev.tranche.scheduler.inventory.ClusterUsage;
import dev.tranche.scheduler.inventory.GpuHolder;
import dev.tranche.scheduler.inventory.NodeUsage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.function.Function;

import static java.util.Objects.requireNonNull;

/** The GPU inventory, who holds what, and the consistent view of both that a scheduling cycle reads. */
public final class ClusterRepository
        implements ClusterUsage
{
    private static final Logger log = LoggerFactory.getLogger(ClusterRepository.class);

    private final DataSource dataSource;

    public ClusterRepository(DataSource dataSource)
    {
        this.dataSource = requireNonNull(dataSource, "dataSource is null");
    }

    /**
     * Makes the inventory match what a backend reports: new nodes are added, known ones updated, and
     * nodes no longer reported are kept (allocations may point at them) but marked unschedulable.
     * The reported CPU and memory are stored as they are, even below what a node's placements hold:
     * those keep running (nothing is preempted for it, as a kubelet does not evict for a smaller
     * allocatable), but the node takes no new placements until they fit again ({@link #nodes} and the
     * scheduling cycle see it as not schedulable; the database refuses more on it). Returns, and logs,
     * the nodes this report shrank below their placements, with how much.
     */
    public List<Shrunk> registerNodes(List<Node> nodes)
    {
        List<Shrunk> shrunk = new ArrayList<>();
        try (Connection connection = dataSource.getConnection()) {
            connection.setAutoCommit(false);
            try {
                java.sql.Array names = connection.createArrayOf("text", nodes.stream().map(Node::name).toArray());
                Map<String, long[]> before = new java.util.HashMap<>();
                try (PreparedStatement select = connection.prepareStatement("SELECT name, cpu_milli, memory_mib FROM nodes WHERE name = ANY (?)")) {
                    select.setArray(1, names);
                    try (ResultSet row = select.executeQuery()) {
                        while (row.next()) {
                            before.put(row.getString(1), new long[] {row.getLong(2), row.getLong(3)});
                        }
                    }
                }
                try (PreparedStatement cordonAll = connection.prepareStatement("UPDATE nodes SET schedulable = false, updated_at = now()")) {
                    cordonAll.executeUpdate();
                }
                try (PreparedStatement node = connection.prepareStatement("""
                        INSERT INTO nodes (name, cpu_milli, memory_mib, schedulable) VALUES (?, ?, ?, ?)
                        ON CONFLICT (name) DO UPDATE SET cpu_milli = EXCLUDED.cpu_milli, memory_mib = EXCLUDED.memory_mib,
                            schedulable = EXCLUDED.schedulable, updated_at = now()""");
                        PreparedStatement gpu = connection.prepareStatement("""
                                INSERT INTO gpus (node, index, model, memory_mib) VALUES (?, ?, ?, ?)
                                ON CONFLICT (node, index) DO UPDATE SET model = EXCLUDED.model, memory_mib = EXCLUDED.memory_mib""")) {
                    for (Node each : nodes) {
                        node.setString(1, each.name());
                        node.setLong(2, each.cpuMilli());
                        node.setLong(3, each.memoryMib());
                        node.setBoolean(4, each.schedulable());
                        node.addBatch();
                        for (Gpu device : each.gpus()) {
                            gpu.setString(1, each.name());
                            gpu.setInt(2, device.index());
                            gpu.setString(3, device.model());
                            gpu.setLong(4, device.memoryMib());
                            gpu.addBatch();
                        }
                    }
                    node.executeBatch();
                    gpu.executeBatch();
                }
                // a node that offers fewer GPUs than before (pods outside Tranche took some): its highest free ones go;
                // one still held stays until its holder leaves
                try (PreparedStatement surplus = connection.prepareStatement("""
                        DELETE FROM gpus g WHERE g.node = ? AND g.index >= ?
                        AND NOT EXISTS (SELECT 1 FROM gpu_allocations a WHERE a.node = g.node AND a.gpu_index = g.index)""")) {
                    for (Node each : nodes) {
                        surplus.setString(1, each.name());
                        surplus.setInt(2, each.gpus().stream().mapToInt(Gpu::index).max().orElse(-1) + 1);
                        surplus.addBatch();
                    }
                    surplus.executeBatch();
                }
                try (PreparedStatement over = connection.prepareStatement("""
                        SELECT name, cpu_milli, memory_mib, used_cpu_milli, used_memory_mib FROM nodes
                        WHERE name = ANY (?) AND (used_cpu_milli > cpu_milli OR used_memory_mib > memory_mib) ORDER BY name""")) {
                    over.setArray(1, names);
                    try (ResultSet row = over.executeQuery()) {
                        while (row.next()) {
                            long[] was = before.get(row.getString(1));
                            // told once, when the report shrinks it; `tranche nodes` shows it for as long as it lasts
                            if (was != null && (row.getLong(2) < was[0] || row.getLong(3) < was[1])) {
                                shrunk.add(new Shrunk(row.getString(1), row.getLong(2), row.getLong(3), was[0], was[1], row.getLong(4), row.getLong(5)));
                            }
                        }
                    }
                }
                connection.commit();
            }
            catch (SQLException | RuntimeException e) {
                connection.rollback();
                throw e;
            }
        }
        catch (SQLException e) {
            throw new StoreException("could not register " + nodes.size() + " nodes", e);
        }
        shrunk.forEach(node -> log.warn(node.message()));
        return shrunk;
    }

    /** A node a registration shrank below what its placements hold: its capacity now and before, and what they hold. */
    public record Shrunk(String name, long cpuMilli, long memoryMib, long previousCpuMilli, long previousMemoryMib, long usedCpuMilli, long usedMemoryMib)
    {
        public Shrunk
        {
            requireNonNull(name, "name is null");
        }

        public String message()
        {
            return "node " + name + " now reports " + cpuMilli + " CPU milli and " + memoryMib + " MiB of memory (before: " + previousCpuMilli + " and "
                    + previousMemoryMib + "), less than its placements hold (" + usedCpuMilli + " CPU milli and " + usedMemoryMib
                    + " MiB): they keep running, but the node takes no new placements until they fit";
        }
    }

    /**
     * Records the device each reserved GPU was given ({@code devices}: node, then GPU index, then device);
     * every GPU not named has none. Writes only what changed.
     */
    public void recordDevices(Map<String, Map<Integer, String>> devices)
    {
        try (Connection connection = dataSource.getConnection()) {
            connection.setAutoCommit(false);
            try {
                Map<String, Map<Integer, String>> stored = new java.util.HashMap<>();
                try (PreparedStatement select = connection.prepareStatement("SELECT node, index, device_id FROM gpus WHERE device_id IS NOT NULL");
                        ResultSet row = select.executeQuery()) {
                    while (row.next()) {
                        stored.computeIfAbsent(row.getString(1), ignored -> new java.util.HashMap<>()).put(row.getInt(2), row.getString(3));
                    }
                }
                try (PreparedStatement update = connection.prepareStatement("UPDATE gpus SET device_id = ? WHERE node = ? AND index = ?")) {
                    int changes = 0;
                    for (Map.Entry<String, Map<Integer, String>> node : stored.entrySet()) {
                        for (Integer index : node.getValue().keySet()) {
                            if (!devices.getOrDefault(node.getKey(), Map.of()).containsKey(index)) {
                                update.setNull(1, java.sql.Types.VARCHAR);
                                update.setString(2, node.getKey());
                                update.setInt(3, index);
                                update.addBatch();
                                changes++;
                            }
                        }
                    }
                    for (Map.Entry<String, Map<Integer, String>> node : devices.entrySet()) {
                        for (Map.Entry<Integer, String> device : node.getValue().entrySet()) {
                            if (!device.getValue().equals(stored.getOrDefault(node.getKey(), Map.of()).get(device.getKey()))) {
                                update.setString(1, device.getValue());
                                update.setString(2, node.getKey());
                                update.setInt(3, device.getKey());
                                update.addBatch();
                                changes++;
                            }
                        }
                    }
                    if (changes > 0) {
                        update.executeBatch();
                    }
                }
                connection.commit();
            }
            catch (SQLException | RuntimeException e) {
                connection.rollback();
                throw e;
            }
        }
        catch (SQLException e) {
            throw new StoreException("could not record the devices of reserved GPUs", e);
        }
    }

    /**
     * An experiment as a cycle needs it, without its spec: specs never change after submission, so the
     * loop keeps them and asks for the ones it has not seen ({@link #specs}).
     */
    public record Queued(String id, String project, long sequence, ExperimentState state, String reason, java.time.Instant createdAt,
            long attainedGpuSeconds) {}

    /**
     * A placed experiment and where its replicas are; {@code attainedGpuSeconds} counts its ended
     * attempts and the current one up to the read. {@code attempt} is the run attempt this placement
     * is (its workers carry it; 0 for a placement stored before attempts were counted), and
     * {@code placedSecondsAgo} how long ago it was placed, by the database's clock.
     */
    public record Held(Queued experiment, long placedSequence, List<ReplicaPlacement> replicas, long attainedGpuSeconds, int attempt, long placedSecondsAgo) {}

    /** Everything a cycle needs, read in one repeatable-read transaction so it is self-consistent. */
    public record Snapshot(List<NodeUsage> nodes, List<ProjectQuota> quotas, List<DepartmentQuota> departments, List<Held> held, List<Queued> pending,
            long nowEpochSecond) {}

    /**
     * Which transactions a read could see: every transaction below {@code xmax} except those in
     * {@code inProgress} had ended when the read's snapshot was taken. A row written by any other
     * transaction (at or above {@code xmax}, or in progress then) is new to a reader that holds this
     * mark; rows of the others were read already. PostgreSQL's own snapshot, kept as numbers.
     */
    public record ChangeMark(long xmax, List<Long> inProgress)
    {
        public ChangeMark
        {
            inProgress = List.copyOf(inProgress);
            for (long xid : inProgress) {
                if (xid < 0 || xid >= xmax) {
                    throw new IllegalArgumentException("a transaction in progress at a snapshot lies below its xmax " + xmax + ": got " + xid);
                }
            }
        }

        /** The condition on {@code change_xid} that selects rows written by a transaction this mark's read could not see. */
        String unseenCondition()
        {
            // numbers this class produced, written into the text so the planner can use the index
            String unseen = "change_xid >= '" + xmax + "'::xid8";
            return inProgress.isEmpty() ? unseen
                    : unseen + " OR change_xid IN (" + String.join(", ", inProgress.stream().map(xid -> "'" + xid + "'::xid8").toList()) + ")";
        }
    }

    /**
     * A snapshot whose {@code pending} holds only what changed in the queue: with {@code complete}, every
     * PENDING experiment (a first read); otherwise every experiment, in any state, whose last write the
     * read that returned the previous mark could not see. {@code mark} is this read's: pass it to the
     * next call. {@code specs} has the spec of each PENDING experiment read.
     */
    public record QueueDelta(Snapshot snapshot, boolean complete, ChangeMark mark, Map<String, dev.tranche.scheduler.experiment.ExperimentSpec> specs) {}

    /** @param since the mark of the previous delta, or empty for a complete read */
    public QueueDelta snapshotSince(Optional<ChangeMark> since)
    {
        return inSnapshot(batch -> {
            boolean complete = since.isEmpty();
            List<Queued> changed = new ArrayList<>();
            Map<String, dev.tranche.scheduler.experiment.ExperimentSpec> specs = new java.util.HashMap<>();
            String columns = QUEUED_COLUMNS + ", CASE WHEN state = 'PENDING' THEN spec END AS pending_spec";
            batch.add(complete
                    ? "SELECT " + columns + " FROM experiments WHERE state = 'PENDING' ORDER BY seq"
                    : "SELECT " + columns + " FROM experiments WHERE " + since.get().unseenCondition() + " ORDER BY seq", row -> {
                Queued queued = queued(row);
                changed.add(queued);
                byte[] spec = row.getBytes("pending_spec");
                if (spec != null) {
                    specs.put(queued.id(), StoredSpecs.decode(spec, queued.id()));
                }
            });
            return parts -> new QueueDelta(parts.withPending(changed).snapshot(), complete, parts.mark(), specs);
        });
    }

    /** The cluster without the queue ({@code pending} empty): what the execution loop reconciles. */
    public Snapshot snapshot()
    {
        return inSnapshot(batch -> SnapshotParts::snapshot);
    }

    /** What a read adds to the snapshot's batch, and how it builds its answer once the batch has run. */
    private interface SnapshotRead<T>
    {
        Function<SnapshotParts, T> add(Batch batch);
    }

    /**
     * One repeatable-read, read-only transaction, so that everything it reads is self-consistent, sent
     * as one batch: the parts every snapshot has (the snapshot's xmin and time, nodes, quotas,
     * departments, held GPUs) and whatever {@code read} adds.
     */
    private <T> T inSnapshot(SnapshotRead<T> read)
    {
        try (Connection connection = dataSource.getConnection()) {
            connection.setReadOnly(true);
            connection.setAutoCommit(false);
            try {
                Batch batch = new Batch();
                // first in the transaction, before any query takes its snapshot (set per transaction, so the
                // pool has no session setting to undo)
                batch.add("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", null);
                ChangeMark[] mark = new ChangeMark[1];
                long[] now = new long[1];
                // the first query fixes the transaction's snapshot: what it could see bounds the next delta read
                batch.add("SELECT pg_snapshot_xmax(s)::text::bigint, array_to_string(ARRAY(SELECT pg_snapshot_xip(s)::text), ','), "
                        + "extract(epoch FROM now())::bigint FROM (SELECT pg_current_snapshot() AS s) current", row -> {
                    String inProgress = row.getString(2);
                    mark[0] = new ChangeMark(row.getLong(1), inProgress.isEmpty() ? List.of()
                            : java.util.Arrays.stream(inProgress.split(",")).map(Long::valueOf).toList());
                    now[0] = row.getLong(3);
                });
                Function<SnapshotParts, T> answer = read.add(batch);
                NodesRead nodes = new NodesRead(batch);
                List<ProjectQuota> quotas = quotas(batch);
                List<DepartmentQuota> departments = departments(batch);
                HeldRead held = new HeldRead(batch);
                // a read-only transaction ends in the same round trip (the driver then sees it ended and
                // sends nothing for commit()): a round trip on a busy machine can wait tens of ms
                batch.add("COMMIT", null);
                batch.run(connection);
                connection.commit();
                return answer.apply(new SnapshotParts(new Snapshot(nodes.result(), quotas, departments, held.result(), List.of(), now[0]), mark[0]));
            }
            catch (SQLException | RuntimeException e) {
                connection.rollback();
                throw e;
            }
        }
        catch (SQLException e) {
            throw new StoreException("could not read the cluster snapshot", e);
        }
    }

    /** A snapshot without its queue part, and the change mark of the transaction that read it. */
    private record SnapshotParts(Snapshot snapshot, ChangeMark mark)
    {
        SnapshotParts withPending(List<Queued> pending)
        {
            return new SnapshotParts(new Snapshot(snapshot.nodes(), snapshot.quotas(), snapshot.departments(), snapshot.held(), pending, snapshot.nowEpochSecond()), mark);
        }
    }

    /** What to do with each row of one query. */
    @FunctionalInterface
    private interface RowHandler
    {
        void row(ResultSet row)
                throws SQLException;
    }

    /**
     * Statements sent to PostgreSQL together, in one round trip, whose results are read in order. A
     * snapshot is a dozen small queries; on a busy machine each round trip waits for the database's
     * process to be scheduled, and those waits, not the queries, made the slowest scheduling cycles.
     * Only this class's own SQL goes in (values it writes into the text are numbers it produced).
     */
    private static final class Batch
    {
        private final List<String> statements = new ArrayList<>();
        private final List<RowHandler> handlers = new ArrayList<>();

        /** {@code handler} null: a statement without rows. */
        void add(String sql, RowHandler handler)
        {
            statements.add(sql);
            handlers.add(handler);
        }

        void run(Connection connection)
                throws SQLException
        {
            try (Statement statement = connection.createStatement()) {
                boolean rows = statement.execute(String.join(";\n", statements));
                for (int i = 0; i < statements.size(); i++) {
                    if (i > 0) {
                        rows = statement.getMoreResults();
                    }
                    RowHandler handler = handlers.get(i);
                    if (handler == null) {
                        continue;
                    }
                    if (!rows) {
                        throw new SQLException("statement " + (i + 1) + " of a snapshot's batch returned no rows: " + statements.get(i));
                    }
                    try (ResultSet result = statement.getResultSet()) {
                        while (result.next()) {
                            handler.row(result);
                        }
                    }
                }
            }
        }
    }

    /** The inventory with use and holders, for `tranche nodes` and the dashboard. */
    @Override
    public List<NodeUsage> nodes()
    {
        // one snapshot for the GPUs' use and their holders, so the two always add up
        return snapshot().nodes();
    }

    /** Milli-GPUs held per project (experiments SCHEDULED or RUNNING). */
    @Override
    public Map<String, Long> usedMilliByProject()
    {
        try (Connection connection = dataSource.getConnection();
                PreparedStatement select = connection.prepareStatement("""
                        SELECT e.project, sum(a.milli) FROM gpu_allocations a JOIN experiments e ON e.id = a.experiment_id GROUP BY e.project""");
                ResultSet row = select.executeQuery()) {
            Map<String, Long> used = new TreeMap<>();
            while (row.next()) {
                used.put(row.getString(1), row.getLong(2));
            }
            return used;
        }
        catch (SQLException e) {
            throw new StoreException("could not sum GPU use per project", e);
        }
    }

    @Override
    public Map<String, Long> pendingMilliByProject()
    {
        try (Connection connection = dataSource.getConnection();
                PreparedStatement select = connection.prepareStatement(
                        "SELECT project, sum(requested_milli) FROM experiments WHERE state = 'PENDING' GROUP BY project");
                ResultSet row = select.executeQuery()) {
            Map<String, Long> pending = new java.util.TreeMap<>();
            while (row.next()) {
                pending.put(row.getString(1), row.getLong(2));
            }
            return pending;
        }
        catch (SQLException e) {
            throw new StoreException("could not read pending specs", e);
        }
    }

    /** The specs of these experiments (as stored: validated, defaults filled in). */
    public Map<String, dev.tranche.scheduler.experiment.ExperimentSpec> specs(java.util.Collection<String> ids)
    {
        Map<String, dev.tranche.scheduler.experiment.ExperimentSpec> specs = new java.util.HashMap<>();
        if (ids.isEmpty()) {
            return specs;
        }
        try (Connection connection = dataSource.getConnection();
                PreparedStatement select = connection.prepareStatement("SELECT id, spec FROM experiments WHERE id = ANY (?)")) {
            select.setArray(1, connection.createArrayOf("text", ids.toArray(String[]::new)));
            try (ResultSet row = select.executeQuery()) {
                while (row.next()) {
                    specs.put(row.getString(1), StoredSpecs.decode(row.getBytes(2), row.getString(1)));
                }
            }
            return specs;
        }
        catch (SQLException e) {
            throw new StoreException("could not read the specs of " + ids.size() + " experiments", e);
        }
    }

    private static final String QUEUED_COLUMNS = "id, project, seq, state, reason, created_at, attained_gpu_seconds";

    private static Queued queued(ResultSet row)
            throws SQLException
    {
        return new Queued(row.getString("id"), row.getString("project"), row.getLong("seq"), ExperimentState.valueOf(row.getString("state")),
                row.getString("reason"), row.getTimestamp("created_at").toInstant(), row.getLong("attained_gpu_seconds"));
    }

    /** The inventory with its use and holders: three queries of a batch, joined once it has run. */
    private static final class NodesRead
    {
        private final Map<String, List<Gpu>> gpus = new LinkedHashMap<>();
        private final Map<String, Map<Integer, Integer>> used = new LinkedHashMap<>();
        private final Map<String, Map<Integer, String>> devices = new LinkedHashMap<>();
        private final Map<String, List<GpuHolder>> holders = new LinkedHashMap<>();
        // nodes come last in the batch but need the GPUs and holders above: kept as read, joined in result()
        private final List<NodeRow> nodeRows = new ArrayList<>();

        private record NodeRow(String name, long cpuMilli, long memoryMib, boolean schedulable, long usedCpuMilli, long usedMemoryMib) {}

        NodesRead(Batch batch)
        {
            batch.add("SELECT node, index, model, memory_mib, used_milli, device_id FROM gpus ORDER BY node, index", row -> {
                gpus.computeIfAbsent(row.getString(1), ignored -> new ArrayList<>()).add(new Gpu(row.getInt(2), row.getString(3), row.getLong(4)));
                used.computeIfAbsent(row.getString(1), ignored -> new TreeMap<>()).put(row.getInt(2), row.getInt(5));
                if (row.getString(6) != null) {
                    devices.computeIfAbsent(row.getString(1), ignored -> new TreeMap<>()).put(row.getInt(2), row.getString(6));
                }
            });
            batch.add("""
                    SELECT a.node, a.gpu_index, a.experiment_id, e.project, a.replica, a.milli
                    FROM gpu_allocations a JOIN experiments e ON e.id = a.experiment_id ORDER BY a.node, a.gpu_index, a.experiment_id, a.replica""", row ->
                    holders.computeIfAbsent(row.getString(1), ignored -> new ArrayList<>())
                            .add(new GpuHolder(row.getInt(2), row.getString(3), row.getString(4), row.getInt(5), row.getInt(6))));
            batch.add("SELECT name, cpu_milli, memory_mib, schedulable, used_cpu_milli, used_memory_mib FROM nodes ORDER BY name", row ->
                    nodeRows.add(new NodeRow(row.getString(1), row.getLong(2), row.getLong(3), row.getBoolean(4), row.getLong(5), row.getLong(6))));
        }

        List<NodeUsage> result()
        {
            List<NodeUsage> nodes = new ArrayList<>();
            for (NodeRow row : nodeRows) {
                // a node whose placements hold more than it now has takes nothing new until they fit (registerNodes)
                boolean fits = row.usedCpuMilli() <= row.cpuMilli() && row.usedMemoryMib() <= row.memoryMib();
                Node node = new Node(row.name(), row.cpuMilli(), row.memoryMib(), gpus.getOrDefault(row.name(), List.of()), row.schedulable() && fits);
                nodes.add(new NodeUsage(node, row.usedCpuMilli(), row.usedMemoryMib(), used.getOrDefault(row.name(), Map.of()),
                        holders.getOrDefault(row.name(), List.of()), devices.getOrDefault(row.name(), Map.of())));
            }
            return nodes;
        }
    }

    /** The list fills when the batch runs. */
    private static List<ProjectQuota> quotas(Batch batch)
    {
        List<ProjectQuota> quotas = new ArrayList<>();
        batch.add("SELECT name, deserved_milli, limit_milli, over_quota_weight, department FROM projects ORDER BY name", row -> {
            long limit = row.getLong(3);
            OptionalLong limitMilli = row.wasNull() ? OptionalLong.empty() : OptionalLong.of(limit);
            quotas.add(new ProjectQuota(row.getString(1), Optional.ofNullable(row.getString(5)), row.getLong(2), limitMilli, row.getDouble(4)));
        });
        return quotas;
    }

    /** The list fills when the batch runs. */
    private static List<DepartmentQuota> departments(Batch batch)
    {
        List<DepartmentQuota> departments = new ArrayList<>();
        batch.add("SELECT name, deserved_milli, limit_milli FROM departments ORDER BY name", row -> {
            long limit = row.getLong(3);
            OptionalLong limitMilli = row.wasNull() ? OptionalLong.empty() : OptionalLong.of(limit);
            departments.add(new DepartmentQuota(row.getString(1), row.getLong(2), limitMilli));
        });
        return departments;
    }

    /** Placed experiments and where their replicas are: three queries of a batch, joined once it has run. */
    private static final class HeldRead
    {
        private final Map<String, Queued> experiments = new LinkedHashMap<>();
        private final Map<String, Map<Integer, Map<Integer, Integer>>> gpuMilli = new LinkedHashMap<>();
        private final List<ReplicaRow> replicaRows = new ArrayList<>();

        private record ReplicaRow(String experimentId, int replica, String node, long cpuMilli, long memoryMib, long placedSequence, double heldSeconds,
                int attempt) {}

        HeldRead(Batch batch)
        {
            batch.add("SELECT " + QUEUED_COLUMNS + " FROM experiments WHERE id IN (SELECT DISTINCT experiment_id FROM replica_placements) ORDER BY seq", row -> {
                Queued queued = queued(row);
                experiments.put(queued.id(), queued);
            });
            batch.add("SELECT experiment_id, replica, gpu_index, milli FROM gpu_allocations", row ->
                    gpuMilli.computeIfAbsent(row.getString(1), ignored -> new TreeMap<>())
                            .computeIfAbsent(row.getInt(2), ignored -> new TreeMap<>())
                            .put(row.getInt(3), row.getInt(4)));
            batch.add("SELECT experiment_id, replica, node, cpu_milli, memory_mib, placed_seq, greatest(0, extract(epoch FROM now() - placed_at))::float8, attempt "
                    + "FROM replica_placements ORDER BY experiment_id, replica", row ->
                    replicaRows.add(new ReplicaRow(row.getString(1), row.getInt(2), row.getString(3), row.getLong(4), row.getLong(5), row.getLong(6),
                            row.getDouble(7), row.getInt(8))));
        }

        List<Held> result()
        {
            Map<String, List<ReplicaPlacement>> replicas = new LinkedHashMap<>();
            Map<String, Long> placedSequence = new LinkedHashMap<>();
            // GPU milli-seconds of the current attempts, as the release will count them
            Map<String, Double> current = new LinkedHashMap<>();
            Map<String, Integer> attempt = new LinkedHashMap<>();
            Map<String, Double> heldSeconds = new LinkedHashMap<>();
            for (ReplicaRow row : replicaRows) {
                Map<Integer, Integer> milli = gpuMilli.getOrDefault(row.experimentId(), Map.of()).getOrDefault(row.replica(), Map.of());
                ReplicaPlacement replica = new ReplicaPlacement(row.node(), milli, row.cpuMilli(), row.memoryMib());
                replicas.computeIfAbsent(row.experimentId(), ignored -> new ArrayList<>()).add(replica);
                placedSequence.merge(row.experimentId(), row.placedSequence(), Math::max);
                current.merge(row.experimentId(), replica.totalGpuMilli() * row.heldSeconds(), Double::sum);
                // one transaction places every replica of a gang: the same attempt and time for all
                attempt.merge(row.experimentId(), row.attempt(), Math::max);
                heldSeconds.merge(row.experimentId(), row.heldSeconds(), Math::min);
            }
            List<Held> held = new ArrayList<>();
            for (Queued experiment : experiments.values()) {
                if (experiment.state() != ExperimentState.SCHEDULED && experiment.state() != ExperimentState.RUNNING) {
                    log.warn("experiment {} is {} but still holds GPUs; they are freed when it next changes state", experiment.id(), experiment.state());
                }
                long attained = experiment.attainedGpuSeconds() + (long) Math.floor(current.getOrDefault(experiment.id(), 0.0) / 1000);
                held.add(new Held(experiment, placedSequence.get(experiment.id()), replicas.get(experiment.id()), attained, attempt.get(experiment.id()),
                        (long) Math.floor(heldSeconds.get(experiment.id()))));
            }
            return held;
        }
    }
}

package dev.tranche.scheduler.store;

import dev.tranche.scheduler.core.model.ReplicaPlacement;
import dev.tranche.scheduler.errors.StoreException;
import dev.tranche.scheduler.experiment.ExperimentChange;
import dev.tranche.scheduler.experiment.ExperimentState;
import dev.tranche.scheduler.experiment.Waiting;

import javax.sql.DataSource;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;

import static java.util.Objects.requireNonNull;

/**
 * Stores what a scheduling cycle decided. Each placement is one transaction together with the
 * evictions that make room for it, so a gang is placed whole or not at all, and the database's
 * checks refuse anything that would over-commit a GPU or a node.
 */
public final class PlacementWriter
{
    private static final String REQUEUED = "back in the queue after preemption; it resumes from its last checkpoint";

    private final DataSource dataSource;

    public PlacementWriter(DataSource dataSource)
    {
        this.dataSource = requireNonNull(dataSource, "dataSource is null");
    }

    /** A running experiment to stop, and why. */
    public record Eviction(String experimentId, String reason)
    {
        public Eviction
        {
            requireNonNull(experimentId, "experimentId is null");
            requireNonNull(reason, "reason is null");
        }
    }

    /**
     * Evicts (each victim becomes PREEMPTED, then PENDING again, its GPUs freed), then places
     * {@code experimentId} on {@code replicas} as its next run attempt and marks it SCHEDULED, all in
     * one transaction. Returns the changes for watchers; throws if anything no longer holds (the
     * cycle retries later).
     */
    public List<ExperimentChange> place(String experimentId, List<ReplicaPlacement> replicas, String reason, List<Eviction> evictions)
    {
        return inTransaction(connection -> {
            List<ExperimentChange> changes = new ArrayList<>(evict(connection, evictions));
            try (PreparedStatement replica = connection.prepareStatement(
                    "INSERT INTO replica_placements (experiment_id, replica, node, cpu_milli, memory_mib, attempt) VALUES (?, ?, ?, ?, ?, ?)");
                    PreparedStatement gpu = connection.prepareStatement(
                            "INSERT INTO gpu_allocations (experiment_id, replica, node, gpu_index, milli) VALUES (?, ?, ?, ?, ?)")) {
                // the placement must be checked against the PENDING state before its rows go in
                ExperimentChange scheduled = ExperimentRepository.transition(connection, experimentId, EnumSet.of(ExperimentState.PENDING), ExperimentState.SCHEDULED, reason,
                        ExperimentRepository.Counted.NEW_ATTEMPT);
                changes.add(scheduled);
                int attempt = scheduled.experiment().attempts();
                for (int index = 0; index < replicas.size(); index++) {
                    ReplicaPlacement placement = replicas.get(index);
                    replica.setString(1, experimentId);
                    replica.setInt(2, index);
                    replica.setString(3, placement.node());
                    replica.setLong(4, placement.cpuMilli());
                    replica.setLong(5, placement.memoryMib());
                    replica.setInt(6, attempt);
                    replica.addBatch();
                    for (Map.Entry<Integer, Integer> share : placement.gpuMilli().entrySet()) {
                        gpu.setString(1, experimentId);
                        gpu.setInt(2, index);
                        gpu.setString(3, placement.node());
                        gpu.setInt(4, share.getKey());
                        gpu.setInt(5, share.getValue());
                        gpu.addBatch();
                    }
                }
                replica.executeBatch();
                gpu.executeBatch();
            }
            return changes;
        });
    }

    /** Evictions that no placement waits for (the placement failed, or a policy only makes room). */
    public List<ExperimentChange> evict(List<Eviction> evictions)
    {
        return inTransaction(connection -> evict(connection, evictions));
    }

    /**
     * Stores why PENDING experiments still wait (the sentence in {@code reason}, prefixed "waiting: ",
     * and the typed reason with its fit counts); experiments no longer PENDING are left alone.
     */
    public void explainWaiting(Map<String, Waiting> reasons)
    {
        if (reasons.isEmpty()) {
            return;
        }
        inTransaction(connection -> {
            // one statement per experiment (its fit counts are arrays), sent as one batch
            try (PreparedStatement update = connection.prepareStatement("""
                    UPDATE experiments SET reason = ?, waiting_reason = ?, waiting_fit_checks = ?, waiting_fit_nodes = ?, waiting_fitting_nodes = ?
                    WHERE id = ? AND state = 'PENDING' AND (reason IS DISTINCT FROM ? OR waiting_reason IS DISTINCT FROM ?)""")) {
                for (Map.Entry<String, Waiting> entry : reasons.entrySet()) {
                    Waiting waiting = entry.getValue();
                    String text = WAITING_PREFIX + waiting.message();
                    update.setString(1, text);
                    update.setString(2, waiting.reason().name());
                    update.setArray(3, connection.createArrayOf("text", waiting.nodesFailing().keySet().stream().map(Enum::name).toArray()));
                    update.setArray(4, connection.createArrayOf("integer", waiting.nodesFailing().values().toArray()));
                    update.setInt(5, waiting.fittingNodes());
                    update.setString(6, entry.getKey());
                    update.setString(7, text);
                    update.setString(8, waiting.reason().name());
                    update.addBatch();
                }
                update.executeBatch();
            }
            return List.of();
        });
    }

    /** How a stored waiting reason's sentence begins. */
    public static final String WAITING_PREFIX = "waiting: ";

    private static List<ExperimentChange> evict(Connection connection, List<Eviction> evictions)
            throws SQLException
    {
        List<ExperimentChange> changes = new ArrayList<>();
        for (Eviction eviction : evictions) {
            changes.add(ExperimentRepository.transition(connection, eviction.experimentId(),
                    EnumSet.of(ExperimentState.SCHEDULED, ExperimentState.RUNNING), ExperimentState.PREEMPTED, eviction.reason()));
            // Without workers to wait for, the experiment is back in the queue at once; an execution
            // backend moves it on only after its workers have checkpointed and stopped.
            changes.add(ExperimentRepository.transition(connection, eviction.experimentId(),
                    EnumSet.of(ExperimentState.PREEMPTED), ExperimentState.PENDING, REQUEUED));
        }
        return changes;
    }

    private interface Work
    {
        List<ExperimentChange> run(Connection connection)
                throws SQLException;
    }

    private List<ExperimentChange> inTransaction(Work work)
    {
        try (Connection connection = dataSource.getConnection()) {
            connection.setAutoCommit(false);
            try {
                List<ExperimentChange> changes = work.run(connection);
                connection.commit();
                return changes;
            }
            catch (SQLException | RuntimeException e) {
                connection.rollback();
                throw e;
            }
        }
        catch (SQLException e) {
            throw new StoreException("could not store the scheduling decision: " + e.getMessage(), e);
        }
    }
}

package dev.tranche.scheduler.store;

import dev.tranche.scheduler.backend.GangPorts;
import dev.tranche.scheduler.errors.StoreException;

import javax.sql.DataSource;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/** The ports each gang holds on each host (table gang_ports): kept across scheduler restarts. */
public final class GangPortRepository
{
    private final DataSource dataSource;

    public GangPortRepository(DataSource dataSource)
    {
        this.dataSource = requireNonNull(dataSource, "dataSource is null");
    }

    /** Ports held by gangs other than {@code experimentId}, by host. */
    public Map<String, Set<Integer>> takenByOthers(String experimentId)
    {
        Map<String, Set<Integer>> taken = new HashMap<>();
        try (Connection connection = dataSource.getConnection();
                PreparedStatement select = connection.prepareStatement("SELECT host, port FROM gang_ports WHERE experiment_id <> ?")) {
            select.setString(1, experimentId);
            try (ResultSet row = select.executeQuery()) {
                while (row.next()) {
                    taken.computeIfAbsent(row.getString(1), ignored -> new HashSet<>()).add(row.getInt(2));
                }
            }
            return taken;
        }
        catch (SQLException e) {
            throw new StoreException("could not read the ports gangs hold", e);
        }
    }

    /** Replaces the gang's ports with {@code ports} on every one of {@code hosts}, in one transaction. */
    public void assign(String experimentId, Set<String> hosts, GangPorts ports)
    {
        try (Connection connection = dataSource.getConnection()) {
            connection.setAutoCommit(false);
            try {
                try (PreparedStatement delete = connection.prepareStatement("DELETE FROM gang_ports WHERE experiment_id = ?")) {
                    delete.setString(1, experimentId);
                    delete.executeUpdate();
                }
                try (PreparedStatement insert = connection.prepareStatement("INSERT INTO gang_ports (host, port, experiment_id, purpose) VALUES (?, ?, ?, ?)")) {
                    for (String host : hosts) {
                        for (Map.Entry<String, Integer> port : ports.byPurpose().entrySet()) {
                            insert.setString(1, host);
                            insert.setInt(2, port.getValue());
                            insert.setString(3, experimentId);
                            insert.setString(4, port.getKey());
                            insert.addBatch();
                        }
                    }
                    insert.executeBatch();
                }
                connection.commit();
            }
            catch (SQLException | RuntimeException e) {
                connection.rollback();
                throw e;
            }
        }
        catch (SQLException e) {
            throw new StoreException("could not record the ports of " + experimentId, e);
        }
    }

    /** The gang's ports, if it holds any. */
    public Optional<GangPorts> of(String experimentId)
    {
        Map<String, Integer> byPurpose = new HashMap<>();
        try (Connection connection = dataSource.getConnection();
                PreparedStatement select = connection.prepareStatement("SELECT DISTINCT purpose, port FROM gang_ports WHERE experiment_id = ?")) {
            select.setString(1, experimentId);
            try (ResultSet row = select.executeQuery()) {
                while (row.next()) {
                    byPurpose.put(row.getString(1), row.getInt(2));
                }
            }
        }
        catch (SQLException e) {
            throw new StoreException("could not read the ports of " + experimentId, e);
        }
        if (byPurpose.size() != GangPorts.COUNT) {
            return Optional.empty();
        }
        return Optional.of(new GangPorts(byPurpose.get(GangPorts.SPARK_MASTER), byPurpose.get(GangPorts.DRIVER), byPurpose.get(GangPorts.BLOCK_MANAGER),
                byPurpose.get(GangPorts.GRADIENT_SHARING)));
    }

    /** Frees the ports of every gang not in {@code keep} (gangs that ended); returns how many ports were freed. */
    public int releaseAllBut(Collection<String> keep)
    {
        try (Connection connection = dataSource.getConnection();
                PreparedStatement delete = connection.prepareStatement("DELETE FROM gang_ports WHERE NOT (experiment_id = ANY (?))")) {
            delete.setArray(1, connection.createArrayOf("text", keep.toArray()));
            return delete.executeUpdate();
        }
        catch (SQLException e) {
            throw new StoreException("could not free the ports of ended gangs", e);
        }
    }
}

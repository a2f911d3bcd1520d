package dev.tranche.scheduler.store;

import dev.tranche.scheduler.errors.StoreException;
import dev.tranche.scheduler.security.AuditEntry;
import dev.tranche.scheduler.security.AuditStore;

import javax.sql.DataSource;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;

import static java.util.Objects.requireNonNull;

/** The audit log in PostgreSQL: appended in batches, read newest first. */
public final class AuditRepository
        implements AuditStore
{
    private final DataSource dataSource;

    public AuditRepository(DataSource dataSource)
    {
        this.dataSource = requireNonNull(dataSource, "dataSource is null");
    }

    @Override
    public void append(List<AuditEntry> entries)
    {
        if (entries.isEmpty()) {
            return;
        }
        try (Connection connection = dataSource.getConnection();
                PreparedStatement insert = connection.prepareStatement(
                        "INSERT INTO audit_events (at, actor, action, target, outcome, detail, remote_address) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
            for (AuditEntry entry : entries) {
                insert.setTimestamp(1, Timestamp.from(entry.at()));
                insert.setString(2, entry.actor());
                insert.setString(3, entry.action());
                insert.setString(4, entry.target());
                insert.setString(5, entry.outcome());
                insert.setString(6, entry.detail());
                insert.setString(7, entry.remoteAddress());
                insert.addBatch();
            }
            insert.executeBatch();
        }
        catch (SQLException e) {
            throw new StoreException("could not write " + entries.size() + " audit events", e);
        }
    }

    @Override
    public List<AuditEntry> list(int limit, long beforeId, boolean deniedOnly)
    {
        StringBuilder sql = new StringBuilder("SELECT id, at, actor, action, target, outcome, detail, remote_address FROM audit_events WHERE true");
        if (beforeId > 0) {
            sql.append(" AND id < ?");
        }
        if (deniedOnly) {
            sql.append(" AND outcome <> 'OK'");
        }
        sql.append(" ORDER BY id DESC LIMIT ?");
        try (Connection connection = dataSource.getConnection();
                PreparedStatement select = connection.prepareStatement(sql.toString())) {
            int parameter = 1;
            if (beforeId > 0) {
                select.setLong(parameter++, beforeId);
            }
            select.setInt(parameter, limit);
            List<AuditEntry> entries = new ArrayList<>();
            try (ResultSet row = select.executeQuery()) {
                while (row.next()) {
                    entries.add(new AuditEntry(row.getLong("id"), row.getTimestamp("at").toInstant(), row.getString("actor"), row.getString("action"),
                            row.getString("target"), row.getString("outcome"), row.getString("detail"), row.getString("remote_address")));
                }
            }
            return entries;
        }
        catch (SQLException e) {
            throw new StoreException("could not read the audit log", e);
        }
    }
}

package dev.tranche.scheduler.store;

import dev.tranche.scheduler.errors.AlreadyExistsException;
import dev.tranche.scheduler.errors.NotFoundException;
import dev.tranche.scheduler.errors.StoreException;
import dev.tranche.scheduler.project.ProjectRecord;

import javax.sql.DataSource;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

import static java.util.Objects.requireNonNull;

/** Projects and their quotas in PostgreSQL. */
public final class ProjectRepository
{
    private static final String COLUMNS = "name, description, deserved_milli, limit_milli, over_quota_weight, created_at";

    private final DataSource dataSource;

    public ProjectRepository(DataSource dataSource)
    {
        this.dataSource = requireNonNull(dataSource, "dataSource is null");
    }

    public ProjectRecord create(String name, String description)
    {
        try (Connection connection = dataSource.getConnection();
                PreparedStatement insert = connection.prepareStatement(
                        "INSERT INTO projects (name, description) VALUES (?, ?) ON CONFLICT (name) DO NOTHING RETURNING " + COLUMNS)) {
            insert.setString(1, name);
            insert.setString(2, description);
            try (ResultSet row = insert.executeQuery()) {
                if (!row.next()) {
                    throw new AlreadyExistsException("project " + name + " already exists");
                }
                return record(row);
            }
        }
        catch (SQLException e) {
            throw new StoreException("could not create project " + name, e);
        }
    }

    public List<ProjectRecord> list()
    {
        try (Connection connection = dataSource.getConnection();
                PreparedStatement select = connection.prepareStatement("SELECT " + COLUMNS + " FROM projects ORDER BY name");
                ResultSet row = select.executeQuery()) {
            List<ProjectRecord> projects = new ArrayList<>();
            while (row.next()) {
                projects.add(record(row));
            }
            return projects;
        }
        catch (SQLException e) {
            throw new StoreException("could not list projects", e);
        }
    }

    public Optional<ProjectRecord> find(String name)
    {
        try (Connection connection = dataSource.getConnection();
                PreparedStatement select = connection.prepareStatement("SELECT " + COLUMNS + " FROM projects WHERE name = ?")) {
            select.setString(1, name);
            try (ResultSet row = select.executeQuery()) {
                return row.next() ? Optional.of(record(row)) : Optional.empty();
            }
        }
        catch (SQLException e) {
            throw new StoreException("could not read project " + name, e);
        }
    }

    public ProjectRecord setQuota(String name, long deservedMilli, OptionalLong limitMilli, double overQuotaWeight)
    {
        try (Connection connection = dataSource.getConnection();
                PreparedStatement update = connection.prepareStatement(
                        "UPDATE projects SET deserved_milli = ?, limit_milli = ?, over_quota_weight = ? WHERE name = ? RETURNING " + COLUMNS)) {
            update.setLong(1, deservedMilli);
            if (limitMilli.isPresent()) {
                update.setLong(2, limitMilli.getAsLong());
            }
            else {
                update.setNull(2, Types.BIGINT);
            }
            update.setDouble(3, overQuotaWeight);
            update.setString(4, name);
            try (ResultSet row = update.executeQuery()) {
                if (!row.next()) {
                    throw new NotFoundException("project " + name + " does not exist");
                }
                return record(row);
            }
        }
        catch (SQLException e) {
            throw new StoreException("could not set the quota of project " + name, e);
        }
    }

    private static ProjectRecord record(ResultSet row)
            throws SQLException
    {
        long limit = row.getLong("limit_milli");
        OptionalLong limitMilli = row.wasNull() ? OptionalLong.empty() : OptionalLong.of(limit);
        return new ProjectRecord(row.getString("name"), row.getString("description"), row.getLong("deserved_milli"), limitMilli,
                row.getDouble("over_quota_weight"), row.getTimestamp("created_at").toInstant());
    }
}

package dev.tranche.scheduler.store;

import dev.tranche.scheduler.errors.AlreadyExistsException;
import dev.tranche.scheduler.errors.NotFoundException;
import dev.tranche.scheduler.errors.StoreException;
import dev.tranche.scheduler.project.DepartmentRecord;
import dev.tranche.scheduler.project.ProjectRecord;
import dev.tranche.scheduler.project.ProjectStore;

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
        implements ProjectStore
{
    private static final String COLUMNS = "name, description, department, deserved_milli, limit_milli, over_quota_weight, created_at";
    private static final String DEPARTMENT_COLUMNS = "name, description, deserved_milli, limit_milli, created_at";
    private static final String FOREIGN_KEY_VIOLATION = "23503";

    private final DataSource dataSource;

    public ProjectRepository(DataSource dataSource)
    {
        this.dataSource = requireNonNull(dataSource, "dataSource is null");
    }

    @Override
    public ProjectRecord create(String name, String description, Optional<String> department)
    {
        try (Connection connection = dataSource.getConnection();
                PreparedStatement insert = connection.prepareStatement(
                        "INSERT INTO projects (name, description, department) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING RETURNING " + COLUMNS)) {
            insert.setString(1, name);
            insert.setString(2, description);
            insert.setString(3, department.orElse(null));
            try (ResultSet row = insert.executeQuery()) {
                if (!row.next()) {
                    throw new AlreadyExistsException("project " + name + " already exists");
                }
                return record(row);
            }
        }
        catch (SQLException e) {
            if (FOREIGN_KEY_VIOLATION.equals(e.getSQLState())) {
                throw new NotFoundException("department " + department.orElse("") + " does not exist");
            }
            throw new StoreException("could not create project " + name, e);
        }
    }

    @Override
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

    @Override
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

    @Override
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
        return new ProjectRecord(row.getString("name"), row.getString("description"), Optional.ofNullable(row.getString("department")),
                row.getLong("deserved_milli"), limitMilli, row.getDouble("over_quota_weight"), row.getTimestamp("created_at").toInstant());
    }

    @Override
    public DepartmentRecord createDepartment(String name, String description)
    {
        try (Connection connection = dataSource.getConnection();
                PreparedStatement insert = connection.prepareStatement(
                        "INSERT INTO departments (name, description) VALUES (?, ?) ON CONFLICT (name) DO NOTHING RETURNING " + DEPARTMENT_COLUMNS)) {
            insert.setString(1, name);
            insert.setString(2, description);
            try (ResultSet row = insert.executeQuery()) {
                if (!row.next()) {
                    throw new AlreadyExistsException("department " + name + " already exists");
                }
                return department(row);
            }
        }
        catch (SQLException e) {
            throw new StoreException("could not create department " + name, e);
        }
    }

    @Override
    public List<DepartmentRecord> listDepartments()
    {
        try (Connection connection = dataSource.getConnection();
                PreparedStatement select = connection.prepareStatement("SELECT " + DEPARTMENT_COLUMNS + " FROM departments ORDER BY name");
                ResultSet row = select.executeQuery()) {
            List<DepartmentRecord> departments = new ArrayList<>();
            while (row.next()) {
                departments.add(department(row));
            }
            return departments;
        }
        catch (SQLException e) {
            throw new StoreException("could not list departments", e);
        }
    }

    @Override
    public DepartmentRecord setDepartmentQuota(String name, long deservedMilli, OptionalLong limitMilli)
    {
        try (Connection connection = dataSource.getConnection();
                PreparedStatement update = connection.prepareStatement(
                        "UPDATE departments SET deserved_milli = ?, limit_milli = ? WHERE name = ? RETURNING " + DEPARTMENT_COLUMNS)) {
            update.setLong(1, deservedMilli);
            if (limitMilli.isPresent()) {
                update.setLong(2, limitMilli.getAsLong());
            }
            else {
                update.setNull(2, Types.BIGINT);
            }
            update.setString(3, name);
            try (ResultSet row = update.executeQuery()) {
                if (!row.next()) {
                    throw new NotFoundException("department " + name + " does not exist");
                }
                return department(row);
            }
        }
        catch (SQLException e) {
            throw new StoreException("could not set the quota of department " + name, e);
        }
    }

    private static DepartmentRecord department(ResultSet row)
            throws SQLException
    {
        long limit = row.getLong("limit_milli");
        OptionalLong limitMilli = row.wasNull() ? OptionalLong.empty() : OptionalLong.of(limit);
        return new DepartmentRecord(row.getString("name"), row.getString("description"), row.getLong("deserved_milli"), limitMilli,
                row.getTimestamp("created_at").toInstant());
    }
}

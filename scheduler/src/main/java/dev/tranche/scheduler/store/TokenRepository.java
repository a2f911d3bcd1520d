package dev.tranche.scheduler.store;

import dev.tranche.scheduler.errors.NotFoundException;
import dev.tranche.scheduler.errors.StoreException;
import dev.tranche.scheduler.security.Role;
import dev.tranche.scheduler.security.TokenRecord;
import dev.tranche.scheduler.security.TokenStore;

import javax.sql.DataSource;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/** API tokens in PostgreSQL: their metadata and the SHA-256 of their secret, never the secret. */
public final class TokenRepository
        implements TokenStore
{
    private static final String COLUMNS = "id, subject, role, projects, created_at, created_by, expires_at, revoked_at, last_used_at";

    private final DataSource dataSource;

    public TokenRepository(DataSource dataSource)
    {
        this.dataSource = requireNonNull(dataSource, "dataSource is null");
    }

    /** A token found by its lookup key, with the stored hash to compare against. */
    @Override
    public TokenRecord create(String id, String subject, Role role, List<String> projects, String createdBy, Optional<Instant> expiresAt, String lookupKey,
            byte[] secretHash)
    {
        try (Connection connection = dataSource.getConnection();
                PreparedStatement insert = connection.prepareStatement("INSERT INTO api_tokens (id, subject, role, projects, created_by, expires_at, lookup_key, secret_hash) "
                        + "VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING " + COLUMNS)) {
            insert.setString(1, id);
            insert.setString(2, subject);
            insert.setString(3, role.name());
            insert.setArray(4, connection.createArrayOf("text", projects.toArray(String[]::new)));
            insert.setString(5, createdBy);
            insert.setTimestamp(6, expiresAt.map(Timestamp::from).orElse(null));
            insert.setString(7, lookupKey);
            insert.setBytes(8, secretHash);
            try (ResultSet row = insert.executeQuery()) {
                row.next();
                return record(row);
            }
        }
        catch (SQLException e) {
            throw new StoreException("could not store token " + id, e);
        }
    }

    /** The admin token given from outside (TRANCHE_ADMIN_TOKEN): stored once under a fixed id, its hash kept current. */
    @Override
    public void upsertBootstrap(String id, String subject, String lookupKey, byte[] secretHash)
    {
        try (Connection connection = dataSource.getConnection();
                PreparedStatement upsert = connection.prepareStatement("INSERT INTO api_tokens (id, subject, role, created_by, lookup_key, secret_hash) "
                        + "VALUES (?, ?, 'ADMIN', 'TRANCHE_ADMIN_TOKEN', ?, ?) "
                        + "ON CONFLICT (id) DO UPDATE SET lookup_key = excluded.lookup_key, secret_hash = excluded.secret_hash, revoked_at = NULL")) {
            upsert.setString(1, id);
            upsert.setString(2, subject);
            upsert.setString(3, lookupKey);
            upsert.setBytes(4, secretHash);
            upsert.executeUpdate();
        }
        catch (SQLException e) {
            throw new StoreException("could not store the admin token", e);
        }
    }

    @Override
    public Optional<Stored> findByLookupKey(String lookupKey)
    {
        try (Connection connection = dataSource.getConnection();
                PreparedStatement select = connection.prepareStatement("SELECT " + COLUMNS + ", secret_hash FROM api_tokens WHERE lookup_key = ?")) {
            select.setString(1, lookupKey);
            try (ResultSet row = select.executeQuery()) {
                if (!row.next()) {
                    return Optional.empty();
                }
                return Optional.of(new Stored(record(row), row.getBytes("secret_hash")));
            }
        }
        catch (SQLException e) {
            throw new StoreException("could not look up a token", e);
        }
    }

    @Override
    public Optional<TokenRecord> find(String id)
    {
        try (Connection connection = dataSource.getConnection();
                PreparedStatement select = connection.prepareStatement("SELECT " + COLUMNS + " FROM api_tokens WHERE id = ?")) {
            select.setString(1, id);
            try (ResultSet row = select.executeQuery()) {
                return row.next() ? Optional.of(record(row)) : Optional.empty();
            }
        }
        catch (SQLException e) {
            throw new StoreException("could not read token " + id, e);
        }
    }

    @Override
    public boolean anyActiveAdmin()
    {
        try (Connection connection = dataSource.getConnection();
                PreparedStatement select = connection.prepareStatement(
                        "SELECT EXISTS (SELECT 1 FROM api_tokens WHERE role = 'ADMIN' AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now()))");
                ResultSet row = select.executeQuery()) {
            row.next();
            return row.getBoolean(1);
        }
        catch (SQLException e) {
            throw new StoreException("could not read tokens", e);
        }
    }

    @Override
    public List<TokenRecord> list(boolean includeInactive)
    {
        String sql = "SELECT " + COLUMNS + " FROM api_tokens"
                + (includeInactive ? "" : " WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())")
                + " ORDER BY created_at, id";
        try (Connection connection = dataSource.getConnection();
                PreparedStatement select = connection.prepareStatement(sql);
                ResultSet row = select.executeQuery()) {
            List<TokenRecord> tokens = new ArrayList<>();
            while (row.next()) {
                tokens.add(record(row));
            }
            return tokens;
        }
        catch (SQLException e) {
            throw new StoreException("could not list tokens", e);
        }
    }

    /** Revokes it (a second revoke keeps the first time); unknown id: {@link NotFoundException}. */
    @Override
    public TokenRecord revoke(String id)
    {
        try (Connection connection = dataSource.getConnection();
                PreparedStatement update = connection.prepareStatement(
                        "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = ? RETURNING " + COLUMNS)) {
            update.setString(1, id);
            try (ResultSet row = update.executeQuery()) {
                if (!row.next()) {
                    throw new NotFoundException("token " + id + " does not exist");
                }
                return record(row);
            }
        }
        catch (SQLException e) {
            throw new StoreException("could not revoke token " + id, e);
        }
    }

    @Override
    public void touch(String id, Instant at)
    {
        try (Connection connection = dataSource.getConnection();
                PreparedStatement update = connection.prepareStatement("UPDATE api_tokens SET last_used_at = ? WHERE id = ?")) {
            update.setTimestamp(1, Timestamp.from(at));
            update.setString(2, id);
            update.executeUpdate();
        }
        catch (SQLException e) {
            throw new StoreException("could not update token " + id, e);
        }
    }

    private static TokenRecord record(ResultSet row)
            throws SQLException
    {
        Array projects = row.getArray("projects");
        return new TokenRecord(
                row.getString("id"),
                row.getString("subject"),
                Role.valueOf(row.getString("role")),
                projects == null ? List.of() : Arrays.asList((String[]) projects.getArray()),
                row.getTimestamp("created_at").toInstant(),
                row.getString("created_by"),
                instant(row.getTimestamp("expires_at")),
                instant(row.getTimestamp("revoked_at")),
                instant(row.getTimestamp("last_used_at")));
    }

    private static Optional<Instant> instant(Timestamp timestamp)
    {
        return Optional.ofNullable(timestamp).map(Timestamp::toInstant);
    }
}

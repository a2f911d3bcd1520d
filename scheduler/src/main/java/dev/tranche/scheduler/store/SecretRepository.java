package dev.tranche.scheduler.store;

import dev.tranche.scheduler.errors.StoreException;

import javax.sql.DataSource;

import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

import static java.util.Objects.requireNonNull;

/** Secrets that must outlive a restart, created on first use. */
public final class SecretRepository
{
    private final DataSource dataSource;
    private final SecureRandom random = new SecureRandom();

    public SecretRepository(DataSource dataSource)
    {
        this.dataSource = requireNonNull(dataSource, "dataSource is null");
    }

    /** The named 256-bit secret; the first caller creates it, everyone gets the same one. */
    public byte[] secret(String name)
    {
        byte[] fresh = new byte[32];
        random.nextBytes(fresh);
        try (Connection connection = dataSource.getConnection()) {
            try (PreparedStatement insert = connection.prepareStatement("INSERT INTO scheduler_secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING")) {
                insert.setString(1, name);
                insert.setBytes(2, fresh);
                insert.executeUpdate();
            }
            try (PreparedStatement select = connection.prepareStatement("SELECT value FROM scheduler_secrets WHERE name = ?")) {
                select.setString(1, name);
                try (ResultSet row = select.executeQuery()) {
                    row.next();
                    return row.getBytes(1);
                }
            }
        }
        catch (SQLException e) {
            throw new StoreException("could not read secret " + name, e);
        }
    }
}

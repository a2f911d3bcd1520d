package dev.tranche.scheduler.store;

import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Migration 24: fills {@code experiments.requested_milli} (added by 23) for rows stored before it
 * existed, from their specs, then makes it required. A spec that cannot be read counts 0 and is logged:
 * a figure of demand is not worth refusing to start over.
 */
// Flyway reads the version and description from the class's name
final class V24__BackfillRequestedGpus
        extends BaseJavaMigration
{
    private static final Logger log = LoggerFactory.getLogger(V24__BackfillRequestedGpus.class);
    private static final int BATCH = 1000;

    @Override
    public void migrate(Context context)
            throws SQLException
    {
        Connection connection = context.getConnection();
        int filled = 0;
        try (Statement select = connection.createStatement();
                PreparedStatement update = connection.prepareStatement("UPDATE experiments SET requested_milli = ? WHERE id = ?")) {
            select.setFetchSize(BATCH);
            try (ResultSet row = select.executeQuery("SELECT id, spec FROM experiments WHERE requested_milli IS NULL")) {
                while (row.next()) {
                    String id = row.getString(1);
                    long milli;
                    try {
                        milli = StoredSpecs.decode(row.getBytes(2), id).requestedMilli();
                    }
                    catch (SQLException e) {
                        log.warn("counting 0 GPUs for experiment {}: {}", id, e.getMessage());
                        milli = 0;
                    }
                    update.setLong(1, milli);
                    update.setString(2, id);
                    update.addBatch();
                    if (++filled % BATCH == 0) {
                        update.executeBatch();
                    }
                }
            }
            update.executeBatch();
        }
        try (Statement required = connection.createStatement()) {
            required.execute("ALTER TABLE experiments ALTER COLUMN requested_milli SET NOT NULL");
        }
        if (filled > 0) {
            log.info("filled in the requested GPUs of {} experiments stored before version 23", filled);
        }
    }
}

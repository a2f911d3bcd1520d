package dev.tranche.scheduler.store;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.tranche.scheduler.experiment.ExperimentSpec;
import dev.tranche.scheduler.wire.ExperimentSpecs;

import java.sql.SQLException;

/** The {@code spec} column: protobuf bytes, so that rows written by older versions stay readable. */
final class StoredSpecs
{
    private StoredSpecs() {}

    static byte[] encode(ExperimentSpec spec)
    {
        return ExperimentSpecs.toStored(spec);
    }

    static ExperimentSpec decode(byte[] bytes, String experimentId)
            throws SQLException
    {
        try {
            return ExperimentSpecs.fromStored(bytes);
        }
        catch (InvalidProtocolBufferException | IllegalArgumentException e) {
            throw new SQLException("the stored spec of experiment " + experimentId + " is unreadable: " + e.getMessage(), e);
        }
    }
}

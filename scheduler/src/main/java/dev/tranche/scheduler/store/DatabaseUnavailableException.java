package dev.tranche.scheduler.store;

import java.sql.SQLTransientConnectionException;

/** Asked for a connection while the database is known to be unreachable (down, restarting, shutting down). */
public final class DatabaseUnavailableException
        extends SQLTransientConnectionException
{
    // SQLSTATE class 08: connection exception
    private static final String SQL_STATE = "08001";

    public DatabaseUnavailableException(String reason)
    {
        super(reason, SQL_STATE);
    }
}

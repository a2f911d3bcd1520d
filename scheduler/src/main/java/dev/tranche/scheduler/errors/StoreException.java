package dev.tranche.scheduler.errors;

import java.sql.SQLException;
import java.util.Optional;
import java.util.Set;

/**
 * The database failed. Callers report a database that could not be reached as unavailable (worth a
 * retry), anything else as an internal error with the cause in the log.
 */
public final class StoreException
        extends RuntimeException
{
    // PostgreSQL shutting down, crashed, or starting up (recovering from a crash)
    private static final Set<String> SERVER_GONE = Set.of("57P01", "57P02", "57P03");

    public StoreException(String message, Throwable cause)
    {
        super(message, cause);
    }

    /**
     * Why the database could not be reached, when that is why this failed (down, restarting, the
     * connection lost), as opposed to a statement it refused.
     */
    public Optional<String> unavailable()
    {
        return unavailable(this);
    }

    /** The same for any failure: whether a database that could not be reached is behind it. */
    public static Optional<String> unavailable(Throwable failure)
    {
        for (Throwable cause = failure; cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
            if (cause instanceof SQLException sql && sql.getSQLState() != null
                    && (sql.getSQLState().startsWith("08") || SERVER_GONE.contains(sql.getSQLState()))) {
                return Optional.of(sql.getMessage() == null ? "the connection failed" : sql.getMessage());
            }
        }
        return Optional.empty();
    }

    /** What a caller is told when {@link #unavailable()}: that the database is unavailable, and why. */
    public static String unavailableMessage(String reason)
    {
        return "the database is unavailable (" + reason + "); retry in a few seconds";
    }
}

package dev.tranche.scheduler.errors;

/** The database failed; callers report it as an internal error and the cause goes to the log. */
public final class StoreException
        extends RuntimeException
{
    public StoreException(String message, Throwable cause)
    {
        super(message, cause);
    }
}

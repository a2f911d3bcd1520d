package dev.tranche.scheduler.errors;

/** The scheduler cannot take more work right now; the client should back off and retry. */
public final class OverloadedException
        extends RuntimeException
{
    public OverloadedException(String message)
    {
        super(message);
    }
}

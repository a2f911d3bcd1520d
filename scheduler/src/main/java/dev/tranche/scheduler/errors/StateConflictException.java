package dev.tranche.scheduler.errors;

/** The request is valid but not in the current state (cancelling a finished experiment). */
public final class StateConflictException
        extends RuntimeException
{
    public StateConflictException(String message)
    {
        super(message);
    }
}

package dev.tranche.scheduler.errors;

/**
 * The scheduler is stopping and takes no new work; nothing of the refused call was done, so the
 * client may retry it once the scheduler (or another) is back. The API answers {@code UNAVAILABLE}.
 */
public final class ShuttingDownException
        extends RuntimeException
{
    public ShuttingDownException(String message)
    {
        super(message);
    }
}

package dev.tranche.worker.checkpoint;

/**
 * The checkpoint a run would resume from holds another model than the experiment trains (another
 * architecture, other layer sizes, other input images or classes); the message names each difference.
 */
public final class CheckpointMismatchException
        extends RuntimeException
{
    public CheckpointMismatchException(String message)
    {
        super(message);
    }
}

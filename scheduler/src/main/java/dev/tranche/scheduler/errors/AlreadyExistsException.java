package dev.tranche.scheduler.errors;

/** Creating something that exists already (a project name, a request id used for another spec). */
public final class AlreadyExistsException
        extends RuntimeException
{
    public AlreadyExistsException(String message)
    {
        super(message);
    }
}

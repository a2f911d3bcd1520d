package dev.tranche.scheduler.errors;

import java.util.concurrent.CompletionException;

/** What failed, as the code that threw it saw it, when a future's failure reaches a later stage. */
public final class AsyncFailures
{
    private AsyncFailures() {}

    /** A dependent stage sees a failure wrapped in {@link CompletionException}; the cause is what was thrown. */
    public static Throwable cause(Throwable failure)
    {
        return failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
    }
}

package dev.tranche.scheduler.core;

import static java.util.Objects.requireNonNull;

/** A pending experiment that stays pending, with a typed reason and a sentence for the user. */
public record Unplaced(String experimentId, UnplacedReason reason, String message)
{
    public Unplaced
    {
        requireNonNull(experimentId, "experimentId is null");
        requireNonNull(reason, "reason is null");
        requireNonNull(message, "message is null");
    }
}

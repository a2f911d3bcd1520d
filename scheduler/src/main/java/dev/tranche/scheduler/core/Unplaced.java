package dev.tranche.scheduler.core;

import dev.tranche.scheduler.core.placement.FitReport;

import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * A pending experiment that stays pending, with a typed reason, a sentence for the user and, when
 * nodes were too full or too small ({@link UnplacedReason#NO_FIT}, {@link UnplacedReason#NEVER_FITS}),
 * the per-node fit counts behind the sentence.
 */
public record Unplaced(String experimentId, UnplacedReason reason, String message, Optional<FitReport> fit)
{
    public Unplaced
    {
        requireNonNull(experimentId, "experimentId is null");
        requireNonNull(reason, "reason is null");
        requireNonNull(message, "message is null");
        requireNonNull(fit, "fit is null");
    }

    /** A reason that no fit check explains (quota, limits, holding for a starving experiment). */
    public Unplaced(String experimentId, UnplacedReason reason, String message)
    {
        this(experimentId, reason, message, Optional.empty());
    }

    /** Why no node took it, from the fit checks. */
    static Unplaced noFit(String experimentId, UnplacedReason reason, Session.NoFit noFit)
    {
        return new Unplaced(experimentId, reason, noFit.message(), Optional.of(noFit.fit()));
    }

    /** The same reason and counts, with more said. */
    Unplaced adding(String more)
    {
        return new Unplaced(experimentId, reason, message + more, fit);
    }
}

package dev.tranche.scheduler.experiment;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

import static java.util.Objects.requireNonNull;

/**
 * Why a PENDING experiment still waits, as the last scheduling cycle that considered it saw it: the
 * reason, the sentence users read, and for {@link WaitingReason#NO_FIT} and
 * {@link WaitingReason#NEVER_FITS} how many nodes failed each fit check for one replica (each node
 * under the first check it failed) and how many could take one.
 */
public record Waiting(WaitingReason reason, String message, Map<FitCheck, Integer> nodesFailing, int fittingNodes)
{
    public Waiting
    {
        requireNonNull(reason, "reason is null");
        requireNonNull(message, "message is null");
        requireNonNull(nodesFailing, "nodesFailing is null");
        EnumMap<FitCheck, Integer> ordered = new EnumMap<>(FitCheck.class);
        nodesFailing.forEach((check, nodes) -> {
            if (nodes == null || nodes < 0) {
                throw new IllegalArgumentException("nodes failing " + check + " must be at least 0: got " + nodes);
            }
            ordered.put(check, nodes);
        });
        nodesFailing = Collections.unmodifiableMap(ordered);
        if (fittingNodes < 0) {
            throw new IllegalArgumentException("fitting nodes must be at least 0: got " + fittingNodes);
        }
    }

    /** A reason no fit check explains. */
    public static Waiting of(WaitingReason reason, String message)
    {
        return new Waiting(reason, message, Map.of(), 0);
    }
}

package dev.tranche.scheduler.core;

/** Why a pending experiment stays pending after a cycle; the message in {@link Unplaced} says it in words. */
public enum UnplacedReason
{
    /** No set of nodes has room for the whole gang now, even after any allowed preemption. */
    NO_FIT,
    /** The cluster could not hold the gang even if it were empty: the request has to change. */
    NEVER_FITS,
    /** The project would pass its hard GPU limit. */
    PROJECT_LIMIT,
    /** The project's department would pass its hard GPU limit. */
    DEPARTMENT_LIMIT,
    /** Non-preemptible work only runs within the project's deserved GPUs, and this would go beyond. */
    NON_PREEMPTIBLE_OVER_QUOTA,
}

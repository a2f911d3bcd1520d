package dev.tranche.scheduler.experiment;

/** Why a PENDING experiment still waits (see {@link Waiting}). */
public enum WaitingReason
{
    /** In the queue, not explained by a cycle yet: just submitted or requeued, or behind others in its project's line. */
    QUEUED,
    /** No set of nodes has room for the whole gang now, even after any allowed preemption. */
    NO_FIT,
    /** The cluster could not hold the gang even if it were empty: the request has to change. */
    NEVER_FITS,
    /** The project would pass its hard GPU limit. */
    PROJECT_LIMIT,
    /** The project's department would pass its hard GPU limit. */
    DEPARTMENT_LIMIT,
    /** Non-preemptible work runs only within the project's deserved GPUs, and this would go beyond. */
    NON_PREEMPTIBLE_OVER_QUOTA,
    /** No longer given (a starving gang holds nodes now, see {@link FitCheck#NODE_RESERVED}); kept for stored rows and old clients. */
    HELD_FOR_STARVING,
}

package dev.tranche.scheduler.experiment;

/** A check a node must pass to take one replica, in the order they are tried (see {@link Waiting#nodesFailing}). */
public enum FitCheck
{
    NODE_UNSCHEDULABLE,
    INSUFFICIENT_CPU,
    INSUFFICIENT_MEMORY,
    TOO_FEW_GPUS,
    NO_ALLOWED_GPU_MODEL,
    GPU_MEMORY_TOO_SMALL,
    INSUFFICIENT_GPU,
    /** Schedulable, but held this cycle for a starving gang. */
    NODE_RESERVED,
}

package dev.tranche.scheduler.backend;

import static java.util.Objects.requireNonNull;

/** What the workers of one experiment are doing, as a backend sees it, with a reason for people. */
public record GangStatus(String experimentId, Phase phase, String reason)
{
    public enum Phase
    {
        /** Created, not all running yet (image pull, scheduling of the pod). */
        STARTING,
        /**
         * Not all up because a worker's state is unknown: its node stopped reporting it (a pod in phase
         * Unknown). Waited for as a starting gang is, within the start timeout; when the wait ends it is
         * the node's failure, not the run's, so no attempt is counted.
         */
        UNREACHABLE,
        RUNNING,
        /** Every replica exited 0. */
        SUCCEEDED,
        /** A replica failed; the reason names it and its exit code. */
        FAILED,
        /** No worker exists for it (never launched, or deleted). */
        GONE,
        /**
         * Something its workers stand on was taken away (a GPU reservation evicted or deleted): they
         * must stop and the experiment go back to the queue. Not the workers' fault, so no attempt is counted.
         */
        LOST,
        /**
         * A worker of the gang is gone, not by its own failure (its pod deleted or evicted, its
         * processes killed without an exit code, a rank > 0 that ended while rank 0 runs), while the others may still run, waiting for it; the
         * reason names it. For a gang that was all up this is a lost attempt: the rest must stop (with
         * the grace, to checkpoint) and the experiment go back to the queue, no attempt counted. For one
         * still starting (a launch cut short) it is one not all up yet, bounded by the start timeout.
         */
        WORKER_LOST,
    }

    /** "worker 1 of 2 (pod exp-a1-1) was lost (its pod is gone)"; {@code worker} may be empty. */
    public static GangStatus workerLost(String experimentId, int rank, int workers, String worker, String how)
    {
        return new GangStatus(experimentId, Phase.WORKER_LOST,
                "worker " + rank + " of " + workers + (worker.isEmpty() ? "" : " (" + worker + ")") + " was lost (" + how + ")");
    }

    /**
     * A rank > 0 that exited 0 while rank 0 still runs. Such a rank ends by itself only once its
     * master (in rank 0) has been unreachable for a while, which normally means rank 0 finished; with
     * rank 0 still running it lost the master (a partition, say), and rank 0's driver would wait for
     * its executor for ever.
     */
    public static GangStatus endedBeforeRankZero(String experimentId, int rank, int workers, String worker)
    {
        return workerLost(experimentId, rank, workers, worker,
                "it exited while worker 0 still trains: it lost touch with worker 0's Spark master, and the training cannot finish without it");
    }

    /** Every one of {@code workers} exited 0: "the worker finished", "all 4 workers finished". */
    public static GangStatus succeeded(String experimentId, int workers)
    {
        return new GangStatus(experimentId, Phase.SUCCEEDED, workers == 1 ? "the worker finished" : "all " + workers + " workers finished");
    }

    /** Some of {@code workers} run: "1 of 1 worker running", "2 of 4 workers running". */
    public static GangStatus running(String experimentId, int running, int workers)
    {
        return new GangStatus(experimentId, Phase.RUNNING, running + " of " + workers + (workers == 1 ? " worker" : " workers") + " running");
    }

    public GangStatus
    {
        requireNonNull(experimentId, "experimentId is null");
        requireNonNull(phase, "phase is null");
        requireNonNull(reason, "reason is null");
    }
}

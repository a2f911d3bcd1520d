package dev.tranche.scheduler.backend;

import java.util.List;

/** Where a worker's output can be read: the local run directory, or the pod's log. */
public interface WorkerLogs
{
    /** The last {@code lines} lines that replica {@code rank} of the experiment printed; empty if none. */
    List<String> tail(String experimentId, int rank, int lines);

    /** No backend runs workers here. */
    WorkerLogs NONE = (experimentId, rank, lines) -> List.of();
}

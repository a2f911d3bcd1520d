package dev.tranche.scheduler.backend;

import java.time.Duration;
import java.util.Map;
import java.util.Set;

/**
 * Runs the workers of placed gangs: local child processes, or pods on Kubernetes. The scheduler's
 * {@code ExecutionController} is the only caller; it decides, a backend only does and reports.
 */
public interface ExecutionBackend
{
    /** Starts every replica of a placed gang, as the run attempt the request names. */
    void launch(LaunchRequest request);

    /**
     * SIGTERM to every worker of this attempt of the experiment (they checkpoint), then a kill after
     * {@code grace}. The experiment's other attempts are left alone.
     */
    void stop(RunAttempt run, Duration grace);

    /**
     * What the workers of this attempt are doing: RUNNING only once every worker of the gang is up,
     * STARTING while some are not yet. Workers of the experiment's other attempts do not count.
     */
    GangStatus status(RunAttempt run);

    /**
     * Every run attempt that has workers, with the nodes they are on: to find orphans after a restart
     * and workers of earlier attempts. An attempt that has left only its bookkeeping (a launch still
     * waiting, say) may be listed with no nodes, so that it is stopped, and so cleaned up, too.
     */
    Map<RunAttempt, Set<String>> workers();

    /**
     * Frees the device reservations of GPUs that no placed gang holds and no worker uses any more, and
     * says which device each reserved GPU was given: node, then Tranche's GPU index, then the device
     * (a UUID such as {@code GPU-8f3c...}, or an index where the device plugin hands out indices).
     * {@code held} is every GPU that placed gangs hold, by node. Backends that reserve nothing report nothing.
     */
    default Map<String, Map<Integer, String>> syncDevices(Map<String, Set<Integer>> held)
    {
        return Map.of();
    }

    /**
     * The network host a node's workers listen on, which gangs' ports must not collide on: the node
     * itself, or one machine for every node a local backend simulates.
     */
    default String portHost(String node)
    {
        return node;
    }

    /** Whether a port is free on a host now, as far as this backend can tell (a remote node: assumed). */
    default boolean portFree(String host, int port)
    {
        return true;
    }
}

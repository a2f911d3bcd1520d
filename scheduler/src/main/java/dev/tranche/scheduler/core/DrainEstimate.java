package dev.tranche.scheduler.core;

import dev.tranche.scheduler.core.model.Gpu;
import dev.tranche.scheduler.core.model.GpuRequest;
import dev.tranche.scheduler.core.model.ReplicaPlacement;
import dev.tranche.scheduler.core.model.ResourceRequest;
import dev.tranche.scheduler.core.model.ServiceHistory;
import dev.tranche.scheduler.core.placement.ClusterState;

import java.util.Arrays;
import java.util.List;

/**
 * How soon each node is expected to free a given amount of GPU, for choosing the nodes held for a
 * starving gang. Nobody knows how long a run will last, so each running experiment is expected to
 * run about as long again as it has run so far (run times are heavy-tailed: the longer a run has
 * gone, the longer it is likely to go on), and never less than {@link #MIN_REMAINING_SECONDS}. A
 * node frees the amount when enough of its work, shortest expected first, has ended.
 * <p>
 * Built once per cycle from the running work; placements of the cycle are added as they are made
 * (they start from nothing, so they count the minimum).
 */
final class DrainEstimate
{
    /**
     * The least run time expected of any experiment, in seconds. Chosen on synthetic traces only
     * (0, 600 and 3,600 tried; docs/benchmarks.md, "Holding the nodes that drain first").
     */
    static final long MIN_REMAINING_SECONDS = 600;

    private final ClusterState state;
    private final ServiceHistory history;
    // per node: expected remaining seconds and GPU milli of each piece of work on it, kept sorted by
    // remaining time when clean
    private final long[][] remaining;
    private final long[][] gpuMilli;
    private final int[] size;
    private final boolean[] sorted;

    DrainEstimate(ClusterState state, ServiceHistory history)
    {
        this.state = state;
        this.history = history;
        int nodes = state.nodeCount();
        this.remaining = new long[nodes][];
        this.gpuMilli = new long[nodes][];
        this.size = new int[nodes];
        this.sorted = new boolean[nodes];
        Arrays.fill(sorted, true);
    }

    /** Adds an experiment's work, placed on the nodes its replicas name. */
    void add(String experimentId, List<ReplicaPlacement> replicas)
    {
        long milli = 0;
        for (ReplicaPlacement replica : replicas) {
            milli += replica.totalGpuMilli();
        }
        if (milli == 0) {
            // holds no GPU: frees none
            return;
        }
        long ranSeconds = history.attainedGpuSeconds(experimentId) * 1000 / milli;
        long expected = Math.max(ranSeconds, MIN_REMAINING_SECONDS);
        for (ReplicaPlacement replica : replicas) {
            if (replica.totalGpuMilli() > 0) {
                append(state.indexOf(replica.node()), expected, replica.totalGpuMilli());
            }
        }
    }

    private void append(int node, long expected, long milli)
    {
        int n = size[node];
        if (remaining[node] == null) {
            remaining[node] = new long[4];
            gpuMilli[node] = new long[4];
        }
        else if (n == remaining[node].length) {
            remaining[node] = Arrays.copyOf(remaining[node], n * 2);
            gpuMilli[node] = Arrays.copyOf(gpuMilli[node], n * 2);
        }
        remaining[node][n] = expected;
        gpuMilli[node][n] = milli;
        size[node] = n + 1;
        sorted[node] = n == 0 || (sorted[node] && remaining[node][n - 1] <= expected);
    }

    /**
     * Seconds until the node is expected to have GPU room for {@code replicas} replicas of
     * {@code request}: 0 when its free GPUs already suffice.
     */
    long secondsUntilRoom(int node, ResourceRequest request, int replicas)
    {
        long need = replicas * perReplicaMilli(node, request.gpu()) - state.freeGpuMilli(node);
        if (need <= 0) {
            return 0;
        }
        sortNode(node);
        long[] times = remaining[node];
        long[] milli = gpuMilli[node];
        long seconds = 0;
        for (int i = 0; i < size[node] && need > 0; i++) {
            need -= milli[i];
            seconds = times[i];
        }
        return seconds;
    }

    private long perReplicaMilli(int node, GpuRequest gpu)
    {
        if (gpu.kind() == GpuRequest.Kind.MEMORY) {
            List<Gpu> gpus = state.node(node).gpus();
            return gpus.isEmpty() ? 0 : Math.min(1000, gpu.milliOn(gpus.get(0).memoryMib()));
        }
        return gpu.totalMilli(0);
    }

    private void sortNode(int node)
    {
        if (sorted[node]) {
            return;
        }
        int n = size[node];
        // one primitive sort of (remaining seconds, position) packed keys: positions take 16 bits (a node
        // holds far fewer pieces), remaining seconds the other 47 (over four million years)
        long[] times = remaining[node];
        long[] keys = new long[n];
        for (int i = 0; i < n; i++) {
            keys[i] = (Math.min(times[i], (1L << 47) - 1) << 16) | i;
        }
        Arrays.sort(keys);
        long[] newTimes = new long[times.length];
        long[] newMilli = new long[times.length];
        for (int i = 0; i < n; i++) {
            int from = (int) (keys[i] & 0xFFFF);
            newTimes[i] = times[from];
            newMilli[i] = gpuMilli[node][from];
        }
        remaining[node] = newTimes;
        gpuMilli[node] = newMilli;
        sorted[node] = true;
    }
}

package dev.tranche.scheduler.core;

import dev.tranche.scheduler.core.model.Gpu;
import dev.tranche.scheduler.core.model.GpuRequest;
import dev.tranche.scheduler.core.model.ReplicaPlacement;
import dev.tranche.scheduler.core.model.ResourceRequest;
import dev.tranche.scheduler.core.model.ServiceHistory;
import dev.tranche.scheduler.core.placement.ClusterState;

import java.util.Arrays;
import java.util.List;
import java.util.Set;

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
    /** Up to this many pieces a node's work is sorted in place; more, and by packed keys. */
    private static final int INSERTION_SORT_MAX = 32;

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

    /**
     * Adds the running work the cycle loaded, less what it evicted. Reads the loaded table's flat arrays
     * (node positions, GPU milli per replica) rather than the records: reading ~50,000 records' replica
     * maps and node names made a steady cycle with a starving gang 60% dearer.
     */
    void addRunning(CycleMemo.Table table, Set<String> evicted)
    {
        for (int a = 0; a < table.count; a++) {
            long milli = table.gpuOf[a];
            if (milli == 0) {
                // holds no GPU: frees none
                continue;
            }
            String experimentId = table.allocations[a].experimentId();
            if (!evicted.isEmpty() && evicted.contains(experimentId)) {
                continue;
            }
            long expected = expectedSeconds(experimentId, milli);
            for (int r = table.firstRow[a]; r < table.firstRow[a + 1]; r++) {
                long rowMilli = 0;
                for (int i = table.gpuStart[r]; i < table.gpuStart[r + 1]; i++) {
                    rowMilli += table.gpuMilli[i];
                }
                if (rowMilli > 0) {
                    append(table.node[r], expected, rowMilli);
                }
            }
        }
    }

    /** Adds an experiment's work, placed on the nodes its replicas name. */
    void add(String experimentId, List<ReplicaPlacement> replicas)
    {
        long[] replicaMilli = new long[replicas.size()];
        long milli = 0;
        for (int i = 0; i < replicaMilli.length; i++) {
            replicaMilli[i] = replicas.get(i).totalGpuMilli();
            milli += replicaMilli[i];
        }
        if (milli == 0) {
            // holds no GPU: frees none
            return;
        }
        long expected = expectedSeconds(experimentId, milli);
        for (int i = 0; i < replicaMilli.length; i++) {
            if (replicaMilli[i] > 0) {
                append(state.indexOf(replicas.get(i).node()), expected, replicaMilli[i]);
            }
        }
    }

    private long expectedSeconds(String experimentId, long milli)
    {
        long ranSeconds = history.attainedGpuSeconds(experimentId) * 1000 / milli;
        return Math.max(ranSeconds, MIN_REMAINING_SECONDS);
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
        long[] times = remaining[node];
        long[] milli = gpuMilli[node];
        if (n <= INSERTION_SORT_MAX) {
            // the usual handful of pieces: a stable insertion sort in place, no garbage
            for (int i = 1; i < n; i++) {
                long time = times[i];
                long amount = milli[i];
                int j = i - 1;
                while (j >= 0 && times[j] > time) {
                    times[j + 1] = times[j];
                    milli[j + 1] = milli[j];
                    j--;
                }
                times[j + 1] = time;
                milli[j + 1] = amount;
            }
        }
        else {
            // many small pieces: one primitive sort of (remaining seconds, position) packed keys, as
            // stable; positions take the low 32 bits, remaining seconds the other 31 (68 years: any
            // longer orders as "never", which it is)
            long[] keys = new long[n];
            for (int i = 0; i < n; i++) {
                keys[i] = (Math.min(times[i], Integer.MAX_VALUE) << 32) | i;
            }
            Arrays.sort(keys);
            long[] newTimes = new long[times.length];
            long[] newMilli = new long[times.length];
            for (int i = 0; i < n; i++) {
                int from = (int) keys[i];
                newTimes[i] = times[from];
                newMilli[i] = milli[from];
            }
            remaining[node] = newTimes;
            gpuMilli[node] = newMilli;
        }
        sorted[node] = true;
    }
}

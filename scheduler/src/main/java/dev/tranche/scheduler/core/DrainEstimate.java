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
    /** Expected remaining seconds are kept in 31 bits (68 years): any longer is "never", and orders so. */
    private static final long NEVER_SECONDS = Integer.MAX_VALUE;

    private final ClusterState state;
    private final ServiceHistory history;
    // A piece of work is one long: expected remaining seconds in the high 32 bits, GPU milli in the low
    // 32, so that sorting the longs orders by time (ties by amount, which cannot change an answer).
    // The running work, flat: node n's pieces are base[baseStart[n]] to base[baseStart[n + 1] - 1],
    // sorted in place the first time the node is asked about. Per-node arrays here were a fifth of a
    // steady cycle's garbage (docs/benchmarks.md, "Fewer collections per cycle").
    private int[] baseStart;
    private long[] base;
    private boolean[] baseSorted;
    // work added during the cycle (a few pieces on a few nodes): a chain per node through extraNext
    private final int[] extraHead;
    private long[] extra = new long[16];
    private int[] extraNext = new int[16];
    private int extras;
    private long[] scratch = new long[16];

    DrainEstimate(ClusterState state, ServiceHistory history)
    {
        this.state = state;
        this.history = history;
        this.extraHead = new int[state.nodeCount()];
        Arrays.fill(extraHead, -1);
    }

    /**
     * Adds the running work the cycle loaded, less what it evicted; once, before anything else is
     * added. Reads the loaded table's flat arrays (node positions, GPU milli per replica) rather than
     * the records: reading ~50,000 records' replica maps and node names made a steady cycle with a
     * starving gang 60% dearer.
     */
    void addRunning(CycleMemo.Table table, Set<String> evicted)
    {
        if (baseStart != null || extras > 0) {
            throw new IllegalStateException("the running work is added once, first");
        }
        int nodes = extraHead.length;
        // one piece per replica row that holds GPU (0: none), and how many land on each node
        long[] rowPiece = new long[table.rows];
        int[] start = new int[nodes + 1];
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
                    rowPiece[r] = piece(expected, rowMilli);
                    start[table.node[r] + 1]++;
                }
            }
        }
        for (int n = 0; n < nodes; n++) {
            start[n + 1] += start[n];
        }
        long[] pieces = new long[start[nodes]];
        int[] cursor = Arrays.copyOf(start, nodes);
        for (int r = 0; r < table.rows; r++) {
            if (rowPiece[r] != 0) {
                pieces[cursor[table.node[r]]++] = rowPiece[r];
            }
        }
        this.baseStart = start;
        this.base = pieces;
        this.baseSorted = new boolean[nodes];
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
        long expected = expectedSeconds(experimentId, milli);
        for (ReplicaPlacement replica : replicas) {
            long replicaMilli = replica.totalGpuMilli();
            if (replicaMilli > 0) {
                int node = state.indexOf(replica.node());
                if (extras == extra.length) {
                    extra = Arrays.copyOf(extra, extras * 2);
                    extraNext = Arrays.copyOf(extraNext, extras * 2);
                }
                extra[extras] = piece(expected, replicaMilli);
                extraNext[extras] = extraHead[node];
                extraHead[node] = extras++;
            }
        }
    }

    private long expectedSeconds(String experimentId, long milli)
    {
        long ranSeconds = history.attainedGpuSeconds(experimentId) * 1000 / milli;
        return Math.max(ranSeconds, MIN_REMAINING_SECONDS);
    }

    private static long piece(long seconds, long milli)
    {
        return (Math.min(seconds, NEVER_SECONDS) << 32) | Math.min(milli, 0xFFFF_FFFFL);
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
        int i = 0;
        int baseEnd = 0;
        if (base != null) {
            i = baseStart[node];
            baseEnd = baseStart[node + 1];
            if (!baseSorted[node]) {
                // a handful of longs: the library sorts them in place, no garbage
                Arrays.sort(base, i, baseEnd);
                baseSorted[node] = true;
            }
        }
        // the cycle's own pieces on this node, sorted apart, then both walked in one order
        int added = 0;
        for (int e = extraHead[node]; e >= 0; e = extraNext[e]) {
            if (added == scratch.length) {
                scratch = Arrays.copyOf(scratch, added * 2);
            }
            scratch[added++] = extra[e];
        }
        Arrays.sort(scratch, 0, added);
        int j = 0;
        long seconds = 0;
        while (need > 0 && (i < baseEnd || j < added)) {
            long next = j >= added || (i < baseEnd && base[i] <= scratch[j]) ? base[i++] : scratch[j++];
            need -= next & 0xFFFF_FFFFL;
            seconds = next >>> 32;
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
}

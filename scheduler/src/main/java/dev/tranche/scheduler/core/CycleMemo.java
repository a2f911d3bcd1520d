package dev.tranche.scheduler.core;

import dev.tranche.scheduler.core.model.Gpu;
import dev.tranche.scheduler.core.model.Node;
import dev.tranche.scheduler.core.model.ReplicaPlacement;
import dev.tranche.scheduler.core.model.ResourceRequest;
import dev.tranche.scheduler.core.model.RunningAllocation;
import dev.tranche.scheduler.core.placement.ClusterState;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What one cycle hands to the next so that loading a snapshot does not start from nothing: the empty
 * cluster (shapes sorted and hashed once) and the running work of the last snapshot resolved to node
 * and GPU positions in flat arrays. Everything here is a pure function of immutable snapshot parts
 * (the node list, checked by equality; a {@link RunningAllocation} or {@link ReplicaPlacement} record,
 * reused only for the very same object), so a cycle with a memo decides exactly as one without; only
 * loading gets cheaper. A memo is used by one cycle at a time.
 *
 * <p>Why flat arrays and identity: a steady cluster keeps almost all of its running work from one
 * cycle to the next, in the same order. Walking the new list against the old one compares references
 * and copies rows, instead of reading ~50,000 records, their replica maps and node names, which was
 * most of a cycle's cost.
 */
final class CycleMemo
{
    /** How far ahead in the last list to look for an allocation before resolving it anew. */
    private static final int SEARCH_AHEAD = 1024;

    /** Sums over the node list: CPU, memory, and the smallest GPU memory (0 if none). */
    record NodeTotals(long cpuMilli, long memoryMib, long smallestGpuMemoryMib) {}

    private List<Node> nodes;
    /** Never changed: each cycle works on a copy. */
    private ClusterState empty;
    private boolean trackTaskKinds;
    private NodeTotals totals;
    /**
     * Gang shapes the empty cluster could not hold, with the explanation (empty when it could): a
     * function of the node list and the shape alone, so it holds until the nodes change. A backlog
     * repeats a few shapes cycle after cycle; asking the empty nodes anew each cycle was a twentieth
     * of a replay's time.
     */
    private final Map<Session.GangShape, Optional<Session.NoFit>> neverFits = new HashMap<>();
    /** How many replicas of a request each node would hold empty, by request: also a function of the node list alone. */
    private final Map<ResourceRequest, int[]> emptyCapacity = new HashMap<>();

    // project names seen, by index; the tables below name projects by index
    private final Map<String, Integer> projectIds = new HashMap<>();
    private String[] projectNames = new String[8];

    /** The running work of the last snapshot loaded, and of the one being loaded. */
    private Table last = new Table();
    private Table next = new Table();
    /**
     * Replicas the last cycle placed, resolved, one row per replica in decision order; placement
     * {@code p} has rows {@code placedFirstRow[p] <= r < placedFirstRow[p + 1]}. The next snapshot
     * usually lists them as running, in that order.
     */
    private ReplicaPlacement[] placedReplica = new ReplicaPlacement[16];
    private ClusterState.Holding[] placedHolding = new ClusterState.Holding[16];
    private int[] placedFirstRow = new int[17];
    private int placedCount;

    /**
     * Running work in snapshot order. Allocation {@code a} holds replica rows
     * {@code firstRow[a] <= r < firstRow[a + 1]}; row {@code r} holds GPU entries
     * {@code gpuStart[r] <= i < gpuStart[r + 1]}.
     */
    static final class Table
    {
        RunningAllocation[] allocations = new RunningAllocation[16];
        int[] project = new int[16];
        long[] gpuOf = new long[16];
        long[] cpuOf = new long[16];
        long[] memoryOf = new long[16];
        boolean[] preemptible = new boolean[16];
        int[] firstRow = new int[17];
        int count;
        /** GPU milli, CPU milli and memory per project index, summed over the allocations. */
        long[] projectGpu = new long[8];
        long[] projectCpu = new long[8];
        long[] projectMemory = new long[8];

        int[] node = new int[16];
        long[] cpu = new long[16];
        long[] memory = new long[16];
        int[] gpuStart = new int[17];
        int rows;

        int[] gpuPosition = new int[64];
        int[] gpuMilli = new int[64];
        int gpuEntries;

        void clear()
        {
            Arrays.fill(allocations, 0, count, null);
            count = 0;
            rows = 0;
            gpuEntries = 0;
            firstRow[0] = 0;
            gpuStart[0] = 0;
        }

        void startProjects(int projects)
        {
            growProjects(projects);
            Arrays.fill(projectGpu, 0);
            Arrays.fill(projectCpu, 0);
            Arrays.fill(projectMemory, 0);
        }

        void growProjects(int projects)
        {
            if (projects > projectGpu.length) {
                int size = Math.max(projects, projectGpu.length * 2);
                projectGpu = Arrays.copyOf(projectGpu, size);
                projectCpu = Arrays.copyOf(projectCpu, size);
                projectMemory = Arrays.copyOf(projectMemory, size);
            }
        }

        private void ensureAllocations(int more)
        {
            int need = count + more;
            if (need > allocations.length) {
                int size = Math.max(need, allocations.length * 2);
                allocations = Arrays.copyOf(allocations, size);
                project = Arrays.copyOf(project, size);
                gpuOf = Arrays.copyOf(gpuOf, size);
                cpuOf = Arrays.copyOf(cpuOf, size);
                memoryOf = Arrays.copyOf(memoryOf, size);
                preemptible = Arrays.copyOf(preemptible, size);
                firstRow = Arrays.copyOf(firstRow, size + 1);
            }
        }

        private void ensureRows(int more)
        {
            int need = rows + more;
            if (need > node.length) {
                int size = Math.max(need, node.length * 2);
                node = Arrays.copyOf(node, size);
                cpu = Arrays.copyOf(cpu, size);
                memory = Arrays.copyOf(memory, size);
                gpuStart = Arrays.copyOf(gpuStart, size + 1);
            }
        }

        private void ensureGpuEntries(int more)
        {
            int need = gpuEntries + more;
            if (need > gpuPosition.length) {
                int size = Math.max(need, gpuPosition.length * 2);
                gpuPosition = Arrays.copyOf(gpuPosition, size);
                gpuMilli = Arrays.copyOf(gpuMilli, size);
            }
        }

        /** Appends allocation {@code a} of {@code from}, rows and all. */
        void copy(Table from, int a)
        {
            int rowFrom = from.firstRow[a];
            int rowTo = from.firstRow[a + 1];
            int gpuFrom = from.gpuStart[rowFrom];
            int gpuTo = from.gpuStart[rowTo];
            ensureAllocations(1);
            ensureRows(rowTo - rowFrom);
            ensureGpuEntries(gpuTo - gpuFrom);
            allocations[count] = from.allocations[a];
            project[count] = from.project[a];
            gpuOf[count] = from.gpuOf[a];
            cpuOf[count] = from.cpuOf[a];
            memoryOf[count] = from.memoryOf[a];
            preemptible[count] = from.preemptible[a];
            projectGpu[project[count]] += gpuOf[count];
            projectCpu[project[count]] += cpuOf[count];
            projectMemory[project[count]] += memoryOf[count];
            for (int r = rowFrom; r < rowTo; r++) {
                node[rows] = from.node[r];
                cpu[rows] = from.cpu[r];
                memory[rows] = from.memory[r];
                rows++;
                gpuStart[rows] = gpuStart[rows - 1] + (from.gpuStart[r + 1] - from.gpuStart[r]);
            }
            System.arraycopy(from.gpuPosition, gpuFrom, gpuPosition, gpuEntries, gpuTo - gpuFrom);
            System.arraycopy(from.gpuMilli, gpuFrom, gpuMilli, gpuEntries, gpuTo - gpuFrom);
            gpuEntries += gpuTo - gpuFrom;
            count++;
            firstRow[count] = rows;
        }

        /** Appends an allocation from its resolved replicas. */
        void add(RunningAllocation allocation, int projectId, ClusterState.Holding[] replicas)
        {
            ensureAllocations(1);
            ensureRows(replicas.length);
            long gpu = 0;
            long cpuTotal = 0;
            long memoryTotal = 0;
            for (ClusterState.Holding holding : replicas) {
                int entries = holding.positions().length;
                ensureGpuEntries(entries);
                System.arraycopy(holding.positions(), 0, gpuPosition, gpuEntries, entries);
                System.arraycopy(holding.milli(), 0, gpuMilli, gpuEntries, entries);
                gpuEntries += entries;
                node[rows] = holding.node();
                cpu[rows] = holding.cpuMilli();
                memory[rows] = holding.memoryMib();
                rows++;
                gpuStart[rows] = gpuEntries;
                gpu += holding.gpuMilli();
                cpuTotal += holding.cpuMilli();
                memoryTotal += holding.memoryMib();
            }
            allocations[count] = allocation;
            project[count] = projectId;
            gpuOf[count] = gpu;
            cpuOf[count] = cpuTotal;
            memoryOf[count] = memoryTotal;
            preemptible[count] = allocation.preemptible();
            projectGpu[projectId] += gpu;
            projectCpu[projectId] += cpuTotal;
            projectMemory[projectId] += memoryTotal;
            count++;
            firstRow[count] = rows;
        }
    }

    /** What {@link Session#neverFits} found for the current node list, by gang shape; valid after {@link #emptyCluster}. */
    Map<Session.GangShape, Optional<Session.NoFit>> neverFits()
    {
        return neverFits;
    }

    /** Per node, how many replicas of {@code request} it would hold empty; {@code state} must come from {@link #emptyCluster}. */
    int[] emptyCapacity(ResourceRequest request, ClusterState state)
    {
        return emptyCapacity.computeIfAbsent(request, ignored -> {
            int[] capacity = new int[state.nodeCount()];
            for (int node = 0; node < capacity.length; node++) {
                capacity[node] = state.emptyCapacity(node, request);
            }
            return capacity;
        });
    }

    NodeTotals nodeTotals()
    {
        return totals;
    }

    /** A fresh copy of the empty cluster for {@code nodes}; forgets everything else when the nodes (or what is tracked) changed. */
    ClusterState emptyCluster(List<Node> nodes, boolean trackTaskKinds)
    {
        if (empty == null || this.trackTaskKinds != trackTaskKinds || !this.nodes.equals(nodes)) {
            this.nodes = nodes;
            this.trackTaskKinds = trackTaskKinds;
            this.empty = new ClusterState(nodes, trackTaskKinds);
            this.totals = totalsOf(nodes);
            neverFits.clear();
            emptyCapacity.clear();
            last.clear();
            forgetPlaced();
        }
        return new ClusterState(empty);
    }

    private static NodeTotals totalsOf(List<Node> nodes)
    {
        long cpu = 0;
        long memory = 0;
        long gpuMemory = 0;
        for (Node node : nodes) {
            cpu += node.cpuMilli();
            memory += node.memoryMib();
            for (Gpu gpu : node.gpus()) {
                if (gpu.memoryMib() > 0 && (gpuMemory == 0 || gpu.memoryMib() < gpuMemory)) {
                    gpuMemory = gpu.memoryMib();
                }
            }
        }
        return new NodeTotals(cpu, memory, gpuMemory);
    }

    String projectName(int id)
    {
        return projectNames[id];
    }

    int projectCount()
    {
        return projectIds.size();
    }

    private int projectId(String project)
    {
        // a handful of projects, usually the very same strings every cycle: compare references first
        for (int id = 0, n = Math.min(projectIds.size(), 16); id < n; id++) {
            if (projectNames[id] == project) {
                return id;
            }
        }
        Integer id = projectIds.get(project);
        if (id == null) {
            id = projectIds.size();
            projectIds.put(project, id);
            if (id == projectNames.length) {
                projectNames = Arrays.copyOf(projectNames, id * 2);
            }
            projectNames[id] = project;
        }
        return id;
    }

    /**
     * The snapshot's running work as a table, in snapshot order; {@code state} must come from
     * {@link #emptyCluster} for the same snapshot. The table stays valid until the next call.
     *
     * @throws IllegalArgumentException for an unknown node or GPU
     */
    Table load(List<RunningAllocation> running, ClusterState state)
    {
        next.clear();
        next.startProjects(projectIds.size());
        lastAt = 0;
        lastAhead = SEARCH_AHEAD;
        placedAt = 0;
        placedAhead = SEARCH_AHEAD;
        // one call per allocation: the JIT compiles a method called often long before it compiles a
        // long loop run once, and the first cycle after start has ~50,000 allocations to load
        for (int i = 0, n = running.size(); i < n; i++) {
            loadOne(running.get(i), state);
        }
        Table loaded = next;
        last.clear();
        next = last;
        last = loaded;
        forgetPlaced();
        return loaded;
    }

    // where the walks over the last table and the last placements stand, and how far they look ahead:
    // far only right after a hit (a gap of finished work); after a miss (new work, or a list in
    // another order) a few places, so that a list of all-new records costs little
    private int lastAt;
    private int lastAhead;
    private int placedAt;
    private int placedAhead;

    private void loadOne(RunningAllocation allocation, ClusterState state)
    {
        Table from = last;
        for (int k = lastAt, end = Math.min(from.count, lastAt + lastAhead); k < end; k++) {
            if (from.allocations[k] == allocation) {
                next.copy(from, k);
                lastAt = k + 1;
                lastAhead = SEARCH_AHEAD;
                return;
            }
        }
        lastAhead = 8;
        List<ReplicaPlacement> replicas = allocation.replicas();
        ClusterState.Holding[] holdings = new ClusterState.Holding[replicas.size()];
        int placement = findPlaced(replicas, placedAt, placedAhead);
        if (placement >= 0) {
            System.arraycopy(placedHolding, placedFirstRow[placement], holdings, 0, holdings.length);
            placedAt = placement + 1;
            placedAhead = SEARCH_AHEAD;
        }
        else {
            placedAhead = 8;
            for (int r = 0; r < holdings.length; r++) {
                holdings[r] = state.resolve(replicas.get(r));
            }
        }
        int project = projectId(allocation.project());
        next.growProjects(project + 1);
        next.add(allocation, project, holdings);
    }

    /** The placement of the last cycle whose replicas are exactly these records, or -1. */
    private int findPlaced(List<ReplicaPlacement> replicas, int from, int ahead)
    {
        int size = replicas.size();
        ReplicaPlacement first = replicas.get(0);
        for (int p = from, end = Math.min(placedCount, from + ahead); p < end; p++) {
            int row = placedFirstRow[p];
            if (placedReplica[row] != first || placedFirstRow[p + 1] - row != size) {
                continue;
            }
            boolean same = true;
            for (int r = 1; r < size && same; r++) {
                same = placedReplica[row + r] == replicas.get(r);
            }
            if (same) {
                return p;
            }
        }
        return -1;
    }

    private void forgetPlaced()
    {
        Arrays.fill(placedReplica, 0, placedFirstRow[placedCount], null);
        Arrays.fill(placedHolding, 0, placedFirstRow[placedCount], null);
        placedCount = 0;
    }

    /** Remembers the replicas a cycle placed: the next snapshot usually lists them as running. */
    void remember(Decisions decisions, ClusterState state)
    {
        forgetPlaced();
        List<Placement> placements = decisions.placements();
        if (placements.size() + 1 > placedFirstRow.length) {
            placedFirstRow = new int[placements.size() + 1];
        }
        int rows = 0;
        for (Placement placement : placements) {
            for (ReplicaPlacement replica : placement.replicas()) {
                if (rows == placedReplica.length) {
                    placedReplica = Arrays.copyOf(placedReplica, rows * 2);
                    placedHolding = Arrays.copyOf(placedHolding, rows * 2);
                }
                placedReplica[rows] = replica;
                placedHolding[rows] = state.resolve(replica);
                rows++;
            }
            placedFirstRow[++placedCount] = rows;
        }
    }
}

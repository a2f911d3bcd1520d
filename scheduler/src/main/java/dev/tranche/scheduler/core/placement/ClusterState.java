package dev.tranche.scheduler.core.placement;

import dev.tranche.scheduler.core.model.Gpu;
import dev.tranche.scheduler.core.model.GpuRequest;
import dev.tranche.scheduler.core.model.Node;
import dev.tranche.scheduler.core.model.ReplicaPlacement;
import dev.tranche.scheduler.core.model.ResourceRequest;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static java.util.Objects.requireNonNull;

/**
 * The free resources of every node, kept up to date as replicas are placed and released, and indexed
 * by {@link NodeShape} so that a decision looks at each distinct node state once. Mutable and
 * single-threaded: one scheduling cycle or one benchmark run owns it.
 */
public final class ClusterState
{
    private final List<Node> nodes;
    // nodeIndex, hardware, schedulable, the totals, gpuKind, gpuModel, gpuMemoryMib and the kind lists are written only while constructing,
    // so a copy shares them
    private final Map<String, Integer> nodeIndex;
    // position of each node in the node list sorted by name
    private final int[] nameRank;
    private final int[] hardware;
    private final boolean[] schedulable;
    /** Nodes held for a starving gang this cycle: no placement goes there; null until the first. */
    private boolean[] reserved;
    private int reservedCount;
    private final long[] cpuTotal;
    private final long[] memoryTotal;
    private final long[] cpuFree;
    private final long[] memoryFree;
    private final int[][] gpuFree;
    private final int[][] gpuKind;
    // each node's GPU models and memory in the order of its GPU list, for the fit checks
    private final String[][] gpuModel;
    private final long[][] gpuMemoryMib;
    // canonical position -> GPU position in the node's GPU list, recomputed on every change
    private final int[][] canonical;
    private final List<String> kindModel;
    private final List<Long> kindMemory;

    private final Map<NodeShape.ShapeKey, NodeShape> shapes;
    private final ArrayList<NodeShape> live = new ArrayList<>();
    private final NodeShape[] shapeOf;
    private final int[] slotInShape;

    // per node, how many replicas of each task kind run there (see taskKind); null unless tracked
    private final int[][] kindCount;

    private final long totalGpuMilli;
    private long allocatedGpuMilli;
    // scratch for enterShape, which runs for every node a cycle loads
    private long[] packed = new long[8];
    // the GPU part of the key a node's shape is looked up by: reused while lookups find a shape (the
    // usual case: a cycle enters every node's shape, ~10,000 lookups), copied into a key that is kept
    // only when a new shape is made
    private long[] keyScratch = new long[8];
    private Object owner;

    public ClusterState(List<Node> nodes)
    {
        this(nodes, false);
    }

    /**
     * @param trackTaskKinds also keep, per node, which kinds of GPU task run there (shared GPU, one whole
     *         GPU, two, ...) and tell shapes apart by it; for policies that group tasks by kind
     */
    public ClusterState(List<Node> nodes, boolean trackTaskKinds)
    {
        this.nodes = List.copyOf(requireNonNull(nodes, "nodes is null"));
        int n = this.nodes.size();
        nodeIndex = new HashMap<>(n * 4 / 3 + 16);
        kindModel = new ArrayList<>();
        kindMemory = new ArrayList<>();
        shapes = new HashMap<>();
        hardware = new int[n];
        schedulable = new boolean[n];
        cpuTotal = new long[n];
        memoryTotal = new long[n];
        cpuFree = new long[n];
        memoryFree = new long[n];
        gpuFree = new int[n][];
        gpuKind = new int[n][];
        gpuModel = new String[n][];
        gpuMemoryMib = new long[n][];
        canonical = new int[n][];
        shapeOf = new NodeShape[n];
        slotInShape = new int[n];
        kindCount = trackTaskKinds ? new int[n][TASK_KINDS] : null;
        Map<GpuKind, Integer> kinds = new HashMap<>();
        Map<HardwareKey, Integer> hardwareTypes = new HashMap<>();
        long gpuTotal = 0;
        for (int i = 0; i < n; i++) {
            Node node = this.nodes.get(i);
            if (nodeIndex.put(node.name(), i) != null) {
                throw new IllegalArgumentException("node " + node.name() + " appears twice");
            }
            schedulable[i] = node.schedulable();
            cpuTotal[i] = node.cpuMilli();
            memoryTotal[i] = node.memoryMib();
            cpuFree[i] = node.cpuMilli();
            memoryFree[i] = node.memoryMib();
            int gpus = node.gpus().size();
            gpuFree[i] = new int[gpus];
            gpuKind[i] = new int[gpus];
            gpuModel[i] = new String[gpus];
            gpuMemoryMib[i] = new long[gpus];
            for (int g = 0; g < gpus; g++) {
                Gpu gpu = node.gpus().get(g);
                gpuFree[i][g] = GpuRequest.MILLI_PER_GPU;
                gpuModel[i][g] = gpu.model();
                gpuMemoryMib[i][g] = gpu.memoryMib();
                gpuKind[i][g] = kinds.computeIfAbsent(new GpuKind(gpu.model(), gpu.memoryMib()), ignored -> {
                    kindModel.add(gpu.model());
                    kindMemory.add(gpu.memoryMib());
                    return kindModel.size() - 1;
                });
                gpuTotal += GpuRequest.MILLI_PER_GPU;
            }
            int[] sortedKinds = gpuKind[i].clone();
            Arrays.sort(sortedKinds);
            hardware[i] = hardwareTypes.computeIfAbsent(new HardwareKey(node.cpuMilli(), node.memoryMib(), sortedKinds), ignored -> hardwareTypes.size());
            canonical[i] = new int[gpus];
            enterShape(i);
        }
        totalGpuMilli = gpuTotal;
        Integer[] byName = new Integer[n];
        for (int i = 0; i < n; i++) {
            byName[i] = i;
        }
        Arrays.sort(byName, (a, b) -> this.nodes.get(a).name().compareTo(this.nodes.get(b).name()));
        nameRank = new int[n];
        for (int r = 0; r < n; r++) {
            nameRank[byName[r]] = r;
        }
    }

    /**
     * An exact copy of {@code other}: same free resources, same shapes in the same order with the same
     * members in the same order, so a placer on the copy decides exactly as one on the original would.
     * Per-shape caches start empty and no placer owns the copy. This is how a scheduling cycle starts
     * from an empty cluster without sorting and hashing every node again.
     */
    public ClusterState(ClusterState other)
    {
        nodes = other.nodes;
        nodeIndex = other.nodeIndex;
        nameRank = other.nameRank;
        hardware = other.hardware;
        schedulable = other.schedulable;
        reserved = other.reserved == null ? null : other.reserved.clone();
        reservedCount = other.reservedCount;
        cpuTotal = other.cpuTotal;
        memoryTotal = other.memoryTotal;
        gpuKind = other.gpuKind;
        gpuModel = other.gpuModel;
        gpuMemoryMib = other.gpuMemoryMib;
        kindModel = other.kindModel;
        kindMemory = other.kindMemory;
        int n = nodes.size();
        cpuFree = other.cpuFree.clone();
        memoryFree = other.memoryFree.clone();
        gpuFree = new int[n][];
        canonical = new int[n][];
        for (int i = 0; i < n; i++) {
            gpuFree[i] = other.gpuFree[i].clone();
            canonical[i] = other.canonical[i].clone();
        }
        if (other.kindCount == null) {
            kindCount = null;
        }
        else {
            kindCount = new int[n][];
            for (int i = 0; i < n; i++) {
                kindCount[i] = other.kindCount[i].clone();
            }
        }
        shapes = new HashMap<>(Math.max(16, other.shapes.size() * 4 / 3 + 1));
        live.ensureCapacity(other.live.size());
        shapeOf = new NodeShape[n];
        slotInShape = other.slotInShape.clone();
        for (NodeShape original : other.live) {
            NodeShape copy = new NodeShape(original);
            copy.liveIndex = live.size();
            live.add(copy);
            shapes.put(copy.key(), copy);
            for (int m = 0; m < copy.size(); m++) {
                shapeOf[copy.member(m)] = copy;
            }
        }
        totalGpuMilli = other.totalGpuMilli;
        allocatedGpuMilli = other.allocatedGpuMilli;
    }

    private record GpuKind(String model, long memoryMib) {}

    private record HardwareKey(long cpuMilli, long memoryMib, int[] gpuKinds)
    {
        @Override
        public boolean equals(Object o)
        {
            return o instanceof HardwareKey other && cpuMilli == other.cpuMilli && memoryMib == other.memoryMib && Arrays.equals(gpuKinds, other.gpuKinds);
        }

        @Override
        public int hashCode()
        {
            return 31 * (31 * Long.hashCode(cpuMilli) + Long.hashCode(memoryMib)) + Arrays.hashCode(gpuKinds);
        }
    }

    /** A placer keeps per-shape caches, so only one may ever work on a state. */
    void claim(Object placer)
    {
        if (owner != null && owner != placer) {
            throw new IllegalStateException("this cluster state already has a placer");
        }
        owner = placer;
    }

    public int nodeCount()
    {
        return nodes.size();
    }

    public Node node(int index)
    {
        return nodes.get(index);
    }

    public List<Node> nodes()
    {
        return nodes;
    }

    /** Where the node's name sorts among all node names, 0 first. */
    int nameRank(int node)
    {
        return nameRank[node];
    }

    public int indexOf(String nodeName)
    {
        Integer index = nodeIndex.get(nodeName);
        if (index == null) {
            throw new IllegalArgumentException("unknown node " + nodeName);
        }
        return index;
    }

    /** The distinct node states present now; do not keep it across changes. */
    public List<NodeShape> shapes()
    {
        return Collections.unmodifiableList(live);
    }

    ArrayList<NodeShape> liveShapes()
    {
        return live;
    }

    public NodeShape shapeOf(int node)
    {
        return shapeOf[node];
    }

    /** Task kinds: 0 a shared (fractional) GPU, k in 1..8 k whole GPUs, 9 anything else. */
    static final int TASK_KINDS = 10;

    /** The task kind of a replica taking {@code milli[i]} on {@code from <= i < to}, or -1 for one without GPU. */
    static int taskKind(int[] milli, int from, int to)
    {
        int count = to - from;
        if (count == 0) {
            return -1;
        }
        boolean whole = true;
        for (int i = from; i < to; i++) {
            whole &= milli[i] == GpuRequest.MILLI_PER_GPU;
        }
        if (whole) {
            return count <= 8 ? count : TASK_KINDS - 1;
        }
        return count == 1 ? 0 : TASK_KINDS - 1;
    }

    /** The task kind a request would be placed as (see {@link #taskKind(int[], int, int)}). */
    public static int taskKind(ResourceRequest request)
    {
        GpuRequest gpu = request.gpu();
        return switch (gpu.kind()) {
            case NONE -> -1;
            case WHOLE -> gpu.count() <= 8 ? gpu.count() : TASK_KINDS - 1;
            case FRACTION -> gpu.milli() < GpuRequest.MILLI_PER_GPU ? 0 : 1;
            case MEMORY -> 0;
        };
    }

    public long totalGpuMilli()
    {
        return totalGpuMilli;
    }

    public long allocatedGpuMilli()
    {
        return allocatedGpuMilli;
    }

    public long cpuFree(int node)
    {
        return cpuFree[node];
    }

    public long memoryFree(int node)
    {
        return memoryFree[node];
    }

    public int gpuFree(int node, int gpuPosition)
    {
        return gpuFree[node][gpuPosition];
    }

    /**
     * A replica resolved against this cluster's nodes: node and GPU positions instead of names and
     * device indexes. Valid for every state that shares this one's node list (a copy, see
     * {@link #ClusterState(ClusterState)}); a cycle keeps them across snapshots so that loading the
     * running work does not look up names and walk maps again.
     */
    public record Holding(int node, int[] positions, int[] milli, long cpuMilli, long memoryMib, long gpuMilli) {}

    /** @throws IllegalArgumentException for an unknown node or GPU */
    public Holding resolve(ReplicaPlacement placement)
    {
        int node = indexOf(placement.node());
        int changes = placement.gpuCount();
        int[] positions = new int[changes];
        int[] milli = new int[changes];
        long gpu = 0;
        for (int i = 0; i < changes; i++) {
            positions[i] = gpuPosition(node, placement.gpuIndex(i));
            milli[i] = placement.gpuMilliAt(i);
            gpu += milli[i];
        }
        return new Holding(node, positions, milli, placement.cpuMilli(), placement.memoryMib(), gpu);
    }

    /** Takes the resources of a replica that already runs (or was just decided). */
    public void allocate(ReplicaPlacement placement)
    {
        change(placement, -1);
    }

    /** Gives back the resources of a replica (a preemption victim, or a rollback). */
    public void release(ReplicaPlacement placement)
    {
        change(placement, +1);
    }

    /** Puts a replica on a node of its shape: canonical positions become this node's GPU indexes. */
    ReplicaPlacement place(int node, GpuChoice choice, long cpuMilli, long memoryMib)
    {
        List<Gpu> nodeGpus = nodes.get(node).gpus();
        int[] indexes = new int[choice.count()];
        int[] milli = new int[choice.count()];
        for (int i = 0; i < indexes.length; i++) {
            indexes[i] = nodeGpus.get(canonical[node][choice.position(i)]).index();
            milli[i] = choice.milli(i);
        }
        ReplicaPlacement placement = ReplicaPlacement.of(nodes.get(node).name(), indexes, milli, cpuMilli, memoryMib);
        allocate(placement);
        return placement;
    }

    /**
     * How many more replicas of {@code request} this node could take as it is now, by the fit checks
     * every placement decision uses ({@link FitChecks}).
     */
    public int capacity(int node, ResourceRequest request)
    {
        return FitChecks.replicas(shapeOf[node].room(), request);
    }

    /**
     * {@link #capacity(int, ResourceRequest)} for the node with other free room (the victim search's
     * scratch copies); {@code gpuFree} in the order of the node's GPU list.
     */
    public int capacity(int node, long cpuFree, long memoryFree, int[] gpuFree, ResourceRequest request)
    {
        return FitChecks.replicas(new NodeRoom(schedulable[node], reserved(node), cpuFree, memoryFree, gpuFree, gpuModel[node], gpuMemoryMib[node]), request);
    }

    public boolean schedulable(int node)
    {
        return schedulable[node];
    }

    /** Schedulable and not reserved: whether a placement may go there now. */
    private boolean open(int node)
    {
        return schedulable[node] && (reserved == null || !reserved[node]);
    }

    public boolean reserved(int node)
    {
        return reserved != null && reserved[node];
    }

    /** Keeps every placement off {@code node} until {@link #releaseReservations()}: room held for a starving gang. */
    public void reserve(int node)
    {
        if (!open(node)) {
            return;
        }
        if (reserved == null) {
            reserved = new boolean[nodes.size()];
        }
        leaveShape(node);
        reserved[node] = true;
        reservedCount++;
        enterShape(node);
    }

    public void releaseReservations()
    {
        if (reservedCount == 0) {
            return;
        }
        for (int node = 0; node < reserved.length; node++) {
            if (reserved[node]) {
                leaveShape(node);
                reserved[node] = false;
                enterShape(node);
            }
        }
        reservedCount = 0;
    }

    /** How many replicas of {@code request} the node would hold if it were empty (0 when it is not schedulable). */
    public int emptyCapacity(int node, ResourceRequest request)
    {
        return FitChecks.replicas(NodeRoom.empty(nodes.get(node)), request);
    }

    /** GPU milli free on the node. */
    public long freeGpuMilli(int node)
    {
        long free = 0;
        for (int milli : gpuFree[node]) {
            free += milli;
        }
        return free;
    }

    /** A copy of the free milli of each GPU of the node, in the order of the node's GPU list. */
    public int[] gpuFreeCopy(int node)
    {
        return gpuFree[node].clone();
    }

    /** Position in the node's GPU list of the GPU with device index {@code gpuIndex}. */
    public int gpuPosition(int node, int gpuIndex)
    {
        List<Gpu> nodeGpus = nodes.get(node).gpus();
        if (gpuIndex >= 0 && gpuIndex < nodeGpus.size() && nodeGpus.get(gpuIndex).index() == gpuIndex) {
            // devices listed in index order, the usual case
            return gpuIndex;
        }
        for (int g = 0; g < nodeGpus.size(); g++) {
            if (nodeGpus.get(g).index() == gpuIndex) {
                return g;
            }
        }
        throw new IllegalArgumentException("node " + nodes.get(node).name() + " has no GPU " + gpuIndex);
    }

    /**
     * Takes the resources of many replicas at once, moving each touched node between shapes only
     * once: how a cycle loads the running work. On an error the state must be thrown away.
     */
    public void allocateAll(List<ReplicaPlacement> placements)
    {
        List<Holding> holdings = new ArrayList<>(placements.size());
        for (ReplicaPlacement placement : placements) {
            holdings.add(resolve(placement));
        }
        allocateAllResolved(holdings);
    }

    /** {@link #allocateAll(List)} for replicas already resolved against this cluster's nodes. */
    public void allocateAllResolved(List<Holding> holdings)
    {
        boolean[] touched = new boolean[nodes.size()];
        int[] order = new int[Math.min(nodes.size(), holdings.size())];
        int touchedCount = 0;
        for (Holding holding : holdings) {
            int node = holding.node();
            if (!touched[node]) {
                touched[node] = true;
                order[touchedCount++] = node;
                leaveShape(node);
            }
            apply(holding, -1);
        }
        for (int i = 0; i < touchedCount; i++) {
            enterShape(order[i]);
        }
    }

    private void change(ReplicaPlacement placement, int sign)
    {
        Holding holding = resolve(placement);
        int node = holding.node();
        leaveShape(node);
        try {
            apply(holding, sign);
        }
        finally {
            enterShape(node);
        }
    }

    private void apply(Holding placement, int sign)
    {
        apply(placement.node(), placement.cpuMilli(), placement.memoryMib(), placement.positions(), placement.milli(), 0, placement.positions().length, sign);
    }

    /**
     * {@link #allocateAll(List)} for replicas laid out in flat arrays, one row per replica in order:
     * row {@code r} takes {@code cpu[r]} and {@code memory[r]} on node {@code node[r]}, and
     * {@code gpuMilli[i]} on GPU position {@code gpuPosition[i]} for {@code gpuStart[r] <= i < gpuStart[r + 1]}.
     * Rows must come from {@link #resolve} on this state or one sharing its node list.
     */
    public void allocateRows(int rows, int[] node, long[] cpu, long[] memory, int[] gpuStart, int[] gpuPosition, int[] gpuMilli)
    {
        boolean[] touched = new boolean[nodes.size()];
        int[] order = new int[Math.min(nodes.size(), rows)];
        int touchedCount = 0;
        for (int r = 0; r < rows; r++) {
            int at = node[r];
            if (!touched[at]) {
                touched[at] = true;
                order[touchedCount++] = at;
                leaveShape(at);
            }
            apply(at, cpu[r], memory[r], gpuPosition, gpuMilli, gpuStart[r], gpuStart[r + 1], -1);
        }
        for (int i = 0; i < touchedCount; i++) {
            enterShape(order[i]);
        }
    }

    /**
     * Changes the free resources of a node that is out of its shape by {@code milli[i]} on GPU
     * {@code positions[i]} for {@code from <= i < to}; checks before changing anything.
     */
    private void apply(int node, long cpuMilli, long memoryMib, int[] positions, int[] milli, int from, int to, int sign)
    {
        long cpu = cpuFree[node] + sign * cpuMilli;
        long memory = memoryFree[node] + sign * memoryMib;
        if (cpu < 0 || memory < 0 || cpu > cpuTotal[node] || memory > memoryTotal[node]) {
            Node description = nodes.get(node);
            throw new IllegalArgumentException("node " + description.name() + " cannot " + (sign < 0 ? "take" : "give back")
                    + " " + cpuMilli + " CPU milli and " + memoryMib + " MiB (free: " + cpuFree[node] + ", " + memoryFree[node] + ")");
        }
        int[] free = gpuFree[node];
        for (int i = from; i < to; i++) {
            int position = positions[i];
            int after = free[position] + sign * milli[i];
            if (after < 0 || after > GpuRequest.MILLI_PER_GPU) {
                Node description = nodes.get(node);
                throw new IllegalArgumentException("GPU " + description.gpus().get(position).index() + " of node " + description.name() + " would be "
                        + (sign < 0 ? "over-committed" : "over-released") + " (free " + free[position] + " milli, change " + milli[i] + ")");
            }
        }
        long gpuChange = 0;
        for (int change = from; change < to; change++) {
            free[positions[change]] += sign * milli[change];
            gpuChange += milli[change];
        }
        cpuFree[node] = cpu;
        memoryFree[node] = memory;
        allocatedGpuMilli -= sign * gpuChange;
        if (kindCount != null) {
            int kind = taskKind(milli, from, to);
            if (kind >= 0) {
                kindCount[node][kind] -= sign;
            }
        }
    }

    private void leaveShape(int node)
    {
        NodeShape shape = shapeOf[node];
        int moved = shape.removeAt(slotInShape[node]);
        if (moved >= 0) {
            slotInShape[moved] = slotInShape[node];
        }
        if (shape.size() == 0) {
            shapes.remove(shape.key());
            int index = shape.liveIndex;
            NodeShape last = live.remove(live.size() - 1);
            if (last != shape) {
                live.set(index, last);
                last.liveIndex = index;
            }
            shape.liveIndex = -1;
        }
        shapeOf[node] = null;
    }

    private void enterShape(int node)
    {
        int gpus = gpuFree[node].length;
        if (packed.length < gpus) {
            packed = new long[gpus];
        }
        long[] packed = this.packed;
        int[] kinds = gpuKind[node];
        int[] nodeFree = gpuFree[node];
        for (int g = 0; g < gpus; g++) {
            // kind, then free milli, then position (16 bits: nodes of up to 65,536 GPUs, e.g. one pool
            // standing for a whole cluster in a replay): sorting this gives the canonical order
            packed[g] = ((long) kinds[g] << 40) | ((long) nodeFree[g] << 16) | g;
        }
        Arrays.sort(packed, 0, gpus);
        if (keyScratch.length != gpus) {
            // Arrays.equals compares whole arrays: the key must be exactly as long as the node has GPUs
            keyScratch = new long[gpus];
        }
        long[] key = keyScratch;
        for (int c = 0; c < gpus; c++) {
            canonical[node][c] = (int) (packed[c] & 0xFFFF);
            key[c] = packed[c] >>> 16;
        }
        int taskKinds = 0;
        if (kindCount != null) {
            for (int k = 0; k < TASK_KINDS; k++) {
                if (kindCount[node][k] > 0) {
                    taskKinds |= 1 << k;
                }
            }
        }
        NodeShape.ShapeKey probe = new NodeShape.ShapeKey(hardware[node], schedulable[node], reserved(node), cpuFree[node], memoryFree[node], key, taskKinds);
        NodeShape shape = shapes.get(probe);
        if (shape == null) {
            NodeShape.ShapeKey shapeKey = probe.withGpus(key.clone());
            String[] models = new String[gpus];
            long[] memories = new long[gpus];
            int[] free = new int[gpus];
            for (int c = 0; c < gpus; c++) {
                int kind = (int) (key[c] >>> 24);
                models[c] = kindModel.get(kind);
                memories[c] = kindMemory.get(kind);
                free[c] = (int) (key[c] & 0xFFFFFF);
            }
            Node description = nodes.get(node);
            shape = new NodeShape(shapeKey, schedulable[node], description.cpuMilli(), description.memoryMib(), models, memories, free);
            shapes.put(shapeKey, shape);
            shape.liveIndex = live.size();
            live.add(shape);
        }
        slotInShape[node] = shape.add(node);
        shapeOf[node] = shape;
    }
}

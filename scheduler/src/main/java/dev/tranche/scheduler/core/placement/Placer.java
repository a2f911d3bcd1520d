package dev.tranche.scheduler.core.placement;

import dev.tranche.scheduler.core.model.GpuRequest;
import dev.tranche.scheduler.core.model.Node;
import dev.tranche.scheduler.core.model.ReplicaPlacement;
import dev.tranche.scheduler.core.model.ResourceRequest;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;

import static java.util.Objects.requireNonNull;

/**
 * Places one replica at a time: runs the fit predicates over every node shape, asks the policy to
 * score each fitting candidate (node shape + GPU choice), takes the best, and breaks ties between
 * nodes with the seeded random. The best candidate of a shape for a request is cached on the shape,
 * so a decision costs one cheap pass over the distinct node states plus scoring of the shapes that
 * changed since last asked. This is the only placement path: the scheduling cycle and the placement
 * benchmark both use it.
 */
public final class Placer
{
    // interning bounds the per-shape caches; requests beyond it are scored uncached
    private static final int MAX_CACHED_REQUESTS = 4096;

    private final ClusterState state;
    private final PlacementPolicy.Scorer scorer;
    private final SplittableRandom random;
    private final int[] tieOrder;
    private final Map<ResourceRequest, Integer> requestIds = new HashMap<>();
    private final ArrayList<NodeShape> ties = new ArrayList<>();
    private GpuChoice lastChoice;

    /** @param random breaks ties between equally good nodes; null takes the first one found */
    public Placer(ClusterState state, PlacementPolicy.Scorer scorer, SplittableRandom random)
    {
        this(state, scorer, random, null);
    }

    /**
     * @param tieOrder for a scorer that {@linkplain PlacementPolicy.Scorer#breaksTiesByNodeName() breaks
     *         ties by name}: the rank of each node (by index) to use instead of its name's, e.g. the
     *         published simulator's seeded shuffle of node names; null for the names
     */
    public Placer(ClusterState state, PlacementPolicy.Scorer scorer, SplittableRandom random, int[] tieOrder)
    {
        this.state = requireNonNull(state, "state is null");
        this.scorer = requireNonNull(scorer, "scorer is null");
        this.random = random;
        if (tieOrder != null && tieOrder.length != state.nodeCount()) {
            throw new IllegalArgumentException("tieOrder has " + tieOrder.length + " ranks for " + state.nodeCount() + " nodes");
        }
        this.tieOrder = tieOrder == null ? null : tieOrder.clone();
        state.claim(this);
    }

    public ClusterState state()
    {
        return state;
    }

    /** Places one replica and takes its resources, or returns empty when no node fits. */
    public Optional<ReplicaPlacement> place(ResourceRequest request)
    {
        int id = requestId(request);
        double best = Double.NEGATIVE_INFINITY;
        long tiedNodes = 0;
        ties.clear();
        ArrayList<NodeShape> live = state.liveShapes();
        for (int i = 0, n = live.size(); i < n; i++) {
            NodeShape shape = live.get(i);
            if (!quickFit(shape, request)) {
                continue;
            }
            double score = evaluate(shape, request, id);
            if (Double.isNaN(score) || score < best) {
                continue;
            }
            if (score > best) {
                best = score;
                ties.clear();
                tiedNodes = 0;
            }
            ties.add(shape);
            tiedNodes += shape.size();
        }
        if (ties.isEmpty()) {
            return Optional.empty();
        }
        if (scorer.breaksTiesByNodeName()) {
            NodeShape firstShape = null;
            int first = -1;
            int firstSlot = -1;
            for (NodeShape shape : ties) {
                for (int m = 0, size = shape.size(); m < size; m++) {
                    int node = shape.member(m);
                    if (first < 0 || tieRank(node) < tieRank(first)) {
                        first = node;
                        firstShape = shape;
                        firstSlot = m;
                    }
                }
            }
            return Optional.of(placeOn(firstShape, firstSlot, request, id));
        }
        long pick = random == null ? 0 : random.nextLong(tiedNodes);
        for (NodeShape shape : ties) {
            if (pick < shape.size()) {
                return Optional.of(placeOn(shape, (int) pick, request, id));
            }
            pick -= shape.size();
        }
        throw new IllegalStateException("tie-break walked past the tied nodes");
    }

    private int tieRank(int node)
    {
        return tieOrder == null ? state.nameRank(node) : tieOrder[node];
    }

    private ReplicaPlacement placeOn(NodeShape shape, int slot, ResourceRequest request, int id)
    {
        evaluate(shape, request, id);
        GpuChoice choice = lastChoice;
        if (random != null && scorer.picksGpuAtRandom() && choice.count() == 1 && request.gpu().kind() != GpuRequest.Kind.WHOLE) {
            choice = randomGpu(shape, request.gpu());
        }
        return state.place(shape.member(slot), choice, request.cpuMilli(), request.memoryMib());
    }

    /** One of the GPUs of the shape that can take part of {@code gpu}, drawn uniformly. */
    private GpuChoice randomGpu(NodeShape shape, GpuRequest gpu)
    {
        int fitting = 0;
        int chosen = -1;
        for (int g = 0; g < shape.gpuCount(); g++) {
            int need = gpu.milliOn(shape.gpuMemoryMib(g));
            if (need <= GpuRequest.MILLI_PER_GPU && shape.gpuFree(g) >= need && gpu.allows(shape.gpuModel(g))) {
                fitting++;
                // reservoir sampling: each fitting GPU ends up chosen with probability 1 / fitting
                if (random.nextInt(fitting) == 0) {
                    chosen = g;
                }
            }
        }
        return new GpuChoice(new int[] {chosen}, new int[] {gpu.milliOn(shape.gpuMemoryMib(chosen))});
    }

    /** Counts, per failed predicate, the nodes that cannot take one replica of {@code request} now. */
    public FitReport explain(ResourceRequest request)
    {
        Map<FitFailure, Integer> counts = new EnumMap<>(FitFailure.class);
        int fitting = 0;
        for (NodeShape shape : state.liveShapes()) {
            FitFailure failure = FitChecks.firstFailure(shape.room(), request);
            if (failure == null) {
                fitting += shape.size();
            }
            else {
                counts.merge(failure, shape.size(), Integer::sum);
            }
        }
        return new FitReport(counts, fitting);
    }

    /**
     * How many replicas of {@code request} the cluster could hold if every node, cordoned ones too,
     * were empty, and why the nodes that could not take even one would refuse it. A gang bigger than
     * that count can never be placed as asked.
     */
    public EmptyFit explainEmpty(ResourceRequest request)
    {
        Map<FitFailure, Integer> counts = new EnumMap<>(FitFailure.class);
        long replicas = 0;
        int fitting = 0;
        for (Node node : state.nodes()) {
            NodeRoom empty = NodeRoom.empty(node);
            int fit = FitChecks.replicas(empty, request);
            if (fit == 0) {
                counts.merge(FitChecks.firstFailure(empty, request), 1, Integer::sum);
                continue;
            }
            replicas += fit;
            fitting++;
        }
        return new EmptyFit(replicas, new FitReport(counts, fitting));
    }

    /** @param replicas how many replicas the empty cluster would hold */
    public record EmptyFit(long replicas, FitReport report) {}

    private static boolean quickFit(NodeShape shape, ResourceRequest request)
    {
        if (!shape.schedulable() || shape.cpuFree() < request.cpuMilli() || shape.memoryFree() < request.memoryMib()) {
            return false;
        }
        GpuRequest gpu = request.gpu();
        return switch (gpu.kind()) {
            case NONE -> true;
            case WHOLE -> shape.fullyFreeGpus() >= gpu.count();
            case FRACTION -> shape.maxGpuFree() >= gpu.milli();
            case MEMORY -> shape.maxGpuFree() > 0;
        };
    }

    private int requestId(ResourceRequest request)
    {
        Integer id = requestIds.get(request);
        if (id == null) {
            if (requestIds.size() >= MAX_CACHED_REQUESTS) {
                return -1;
            }
            id = requestIds.size();
            requestIds.put(request, id);
        }
        return id;
    }

    /** Best score of the shape for the request (NaN if it does not fit); leaves the choice in lastChoice. */
    private double evaluate(NodeShape shape, ResourceRequest request, int id)
    {
        if (id >= 0 && shape.isCached(id)) {
            lastChoice = shape.cachedChoice(id);
            return shape.cachedScore(id);
        }
        double best = Double.NaN;
        GpuChoice bestChoice = null;
        GpuRequest gpu = request.gpu();
        switch (gpu.kind()) {
            case NONE -> {
                bestChoice = GpuChoice.NONE;
                best = scorer.score(shape, request, bestChoice);
            }
            case WHOLE -> {
                int[] positions = new int[gpu.count()];
                int found = 0;
                for (int g = 0; g < shape.gpuCount() && found < positions.length; g++) {
                    if (shape.gpuFree(g) == GpuRequest.MILLI_PER_GPU && gpu.allows(shape.gpuModel(g))) {
                        positions[found++] = g;
                    }
                }
                if (found == positions.length) {
                    int[] milli = new int[found];
                    Arrays.fill(milli, GpuRequest.MILLI_PER_GPU);
                    bestChoice = new GpuChoice(positions, milli);
                    best = scorer.score(shape, request, bestChoice);
                }
            }
            case FRACTION, MEMORY -> {
                for (int g = 0; g < shape.gpuCount(); g++) {
                    int need = gpu.milliOn(shape.gpuMemoryMib(g));
                    if (need > GpuRequest.MILLI_PER_GPU || shape.gpuFree(g) < need || !gpu.allows(shape.gpuModel(g))) {
                        continue;
                    }
                    if (g > 0 && shape.gpuFree(g) == shape.gpuFree(g - 1) && shape.gpuModel(g).equals(shape.gpuModel(g - 1))
                            && shape.gpuMemoryMib(g) == shape.gpuMemoryMib(g - 1)) {
                        // same kind and free milli as the GPU before: the same candidate
                        continue;
                    }
                    GpuChoice choice = new GpuChoice(new int[] {g}, new int[] {need});
                    double score = scorer.score(shape, request, choice);
                    if (Double.isNaN(score)) {
                        throw new IllegalStateException("policy scored a fitting candidate NaN");
                    }
                    if (bestChoice == null || score > best) {
                        best = score;
                        bestChoice = choice;
                    }
                }
            }
        }
        if (id >= 0) {
            shape.cache(id, best, bestChoice);
        }
        lastChoice = bestChoice;
        return best;
    }
}

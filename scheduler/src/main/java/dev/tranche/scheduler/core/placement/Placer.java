package dev.tranche.scheduler.core.placement;

import dev.tranche.scheduler.core.model.GpuRequest;
import dev.tranche.scheduler.core.model.ReplicaPlacement;
import dev.tranche.scheduler.core.model.ResourceRequest;

import java.util.ArrayList;
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
    private final Map<ResourceRequest, Integer> requestIds = new HashMap<>();
    private final ArrayList<NodeShape> ties = new ArrayList<>();
    private GpuChoice lastChoice;

    /** @param random breaks ties between equally good nodes; null takes the first one found */
    public Placer(ClusterState state, PlacementPolicy.Scorer scorer, SplittableRandom random)
    {
        this.state = requireNonNull(state, "state is null");
        this.scorer = requireNonNull(scorer, "scorer is null");
        this.random = random;
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
        long pick = random == null ? 0 : random.nextLong(tiedNodes);
        for (NodeShape shape : ties) {
            if (pick < shape.size()) {
                evaluate(shape, request, id);
                GpuChoice choice = lastChoice;
                int node = shape.member((int) pick);
                return Optional.of(state.place(node, choice, request.cpuMilli(), request.memoryMib()));
            }
            pick -= shape.size();
        }
        throw new IllegalStateException("tie-break walked past the tied nodes");
    }

    /** Counts, per failed predicate, the nodes that cannot take one replica of {@code request} now. */
    public FitReport explain(ResourceRequest request)
    {
        Map<FitFailure, Integer> counts = new EnumMap<>(FitFailure.class);
        int fitting = 0;
        for (NodeShape shape : state.liveShapes()) {
            FitFailure failure = firstFailure(shape, request);
            if (failure == null) {
                fitting += shape.size();
            }
            else {
                counts.merge(failure, shape.size(), Integer::sum);
            }
        }
        return new FitReport(counts, fitting);
    }

    private static FitFailure firstFailure(NodeShape shape, ResourceRequest request)
    {
        if (!shape.schedulable()) {
            return FitFailure.UNSCHEDULABLE;
        }
        if (shape.cpuFree() < request.cpuMilli()) {
            return FitFailure.INSUFFICIENT_CPU;
        }
        if (shape.memoryFree() < request.memoryMib()) {
            return FitFailure.INSUFFICIENT_MEMORY;
        }
        GpuRequest gpu = request.gpu();
        if (gpu.isNone()) {
            return null;
        }
        int usable = 0;
        int allowed = 0;
        for (int g = 0; g < shape.gpuCount(); g++) {
            int need = gpu.milliOn(shape.gpuMemoryMib(g));
            if (!gpu.allows(shape.gpuModel(g)) || need > GpuRequest.MILLI_PER_GPU) {
                continue;
            }
            allowed++;
            if (shape.gpuFree(g) >= need) {
                usable++;
            }
        }
        if (allowed < gpu.count()) {
            return FitFailure.NO_ALLOWED_GPU;
        }
        return usable >= gpu.count() ? null : FitFailure.INSUFFICIENT_GPU;
    }

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
                    java.util.Arrays.fill(milli, GpuRequest.MILLI_PER_GPU);
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

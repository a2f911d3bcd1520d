package dev.tranche.scheduler.core.placement;

import dev.tranche.scheduler.core.model.GpuRequest;
import dev.tranche.scheduler.core.model.ResourceRequest;
import dev.tranche.scheduler.core.model.WorkloadShape;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.tranche.scheduler.core.placement.PublishedSimulator.MAX_NODE_SCORE;

/**
 * Fragmentation gradient descent exactly as the published simulator scores it (Weng et al., ATC'23),
 * so that its figure can be checked against the paper's.
 *
 * <p>Typical tasks: the workload's task shapes by CPU and GPU demand (memory is not part of a shape),
 * CPU-only shapes included, most popular first, cut at the first shape that brings the covered share
 * to 95%, popularity renormalised over what is kept. A node's fragmentation is, summed over typical
 * shapes weighted by popularity: for a CPU-only shape, for one whose GPU model the node lacks, or one
 * that does not fit the node's free CPU and GPU, all the node's free GPU milli; for one that fits, the
 * free milli on GPUs with less free than the shape asks per GPU. A candidate scores
 * {@code trunc(100 sigmoid((before - after) / 1000))}: an integer, so near-equal candidates tie and the
 * tie between nodes is broken at random.
 */
public final class ClassicFgdPolicy
        implements PlacementPolicy
{
    public static final String NAME = "fgd-classic";
    /** Share of the workload the typical shapes cover. */
    static final double POPULARITY_CUT = 0.95;

    @Override
    public String name()
    {
        return NAME;
    }

    @Override
    public Scorer open(ClusterState cluster, List<WorkloadShape> workload)
    {
        return PublishedSimulator.tiesByNodeName(new ClassicScorer(typicalShapes(workload)));
    }

    private record Typical(long cpuMilli, GpuRequest gpu, double share) {}

    private record ShapeDemand(long cpuMilli, GpuRequest gpu) {}

    private static List<Typical> typicalShapes(List<WorkloadShape> workload)
    {
        Map<ShapeDemand, Double> counts = new LinkedHashMap<>();
        double total = 0;
        for (WorkloadShape shape : workload) {
            counts.merge(new ShapeDemand(shape.request().cpuMilli(), shape.request().gpu()), shape.weight(), Double::sum);
            total += shape.weight();
        }
        if (counts.isEmpty()) {
            return List.of(new Typical(0, GpuRequest.whole(1), 1));
        }
        List<Map.Entry<ShapeDemand, Double>> sorted = new ArrayList<>(counts.entrySet());
        // most popular first; equal popularity keeps first-seen order, so the cut is deterministic
        sorted.sort(Comparator.comparingDouble((Map.Entry<ShapeDemand, Double> entry) -> entry.getValue()).reversed());
        List<Map.Entry<ShapeDemand, Double>> kept = new ArrayList<>();
        double covered = 0;
        for (Map.Entry<ShapeDemand, Double> entry : sorted) {
            if (covered >= POPULARITY_CUT * total) {
                break;
            }
            kept.add(entry);
            covered += entry.getValue();
        }
        List<Typical> typical = new ArrayList<>();
        for (Map.Entry<ShapeDemand, Double> entry : kept) {
            typical.add(new Typical(entry.getKey().cpuMilli(), entry.getKey().gpu(), entry.getValue() / covered));
        }
        return typical;
    }

    private static final class ClassicScorer
            implements Scorer
    {
        private final double cpuOnlyShare;
        private final Typical[] gpuShapes;
        private int[] scratch = new int[8];

        ClassicScorer(List<Typical> typical)
        {
            double cpuOnly = 0;
            List<Typical> gpu = new ArrayList<>();
            for (Typical shape : typical) {
                if (shape.gpu().isNone()) {
                    cpuOnly += shape.share();
                }
                else {
                    gpu.add(shape);
                }
            }
            this.cpuOnlyShare = cpuOnly;
            this.gpuShapes = gpu.toArray(Typical[]::new);
        }

        @Override
        public double score(NodeShape shape, ResourceRequest request, GpuChoice choice)
        {
            int gpus = shape.gpuCount();
            if (scratch.length < gpus) {
                scratch = new int[gpus];
            }
            int[] free = scratch;
            for (int g = 0; g < gpus; g++) {
                free[g] = shape.gpuFree(g);
            }
            double before = shape.scorerMemo;
            if (Double.isNaN(before)) {
                before = fragmentation(shape, shape.cpuFree(), free);
                shape.scorerMemo = before;
            }
            for (int i = 0; i < choice.count(); i++) {
                free[choice.position(i)] -= choice.milli(i);
            }
            double after = fragmentation(shape, shape.cpuFree() - request.cpuMilli(), free);
            return (long) (sigmoid((before - after) / 1000) * MAX_NODE_SCORE);
        }

        private double fragmentation(NodeShape shape, long cpuFree, int[] free)
        {
            int gpus = shape.gpuCount();
            long total = 0;
            for (int g = 0; g < gpus; g++) {
                total += free[g];
            }
            if (total == 0) {
                return 0;
            }
            // a CPU-only shape uses no GPU: every free milli counts as a fragment for it
            double fragments = cpuOnlyShare * total;
            for (Typical typical : gpuShapes) {
                fragments += typical.share() * fragmentFor(typical, shape, cpuFree, free, gpus, total);
            }
            return fragments;
        }

        private static long fragmentFor(Typical typical, NodeShape shape, long cpuFree, int[] free, int gpus, long total)
        {
            GpuRequest gpu = typical.gpu();
            boolean accessible = gpu.allowedModels().isEmpty();
            int fitting = 0;
            long small = 0;
            for (int g = 0; g < gpus; g++) {
                accessible |= gpu.allows(shape.gpuModel(g));
                int need = gpu.kind() == GpuRequest.Kind.WHOLE ? GpuRequest.MILLI_PER_GPU : gpu.milliOn(shape.gpuMemoryMib(g));
                if (free[g] >= need) {
                    fitting++;
                }
                else {
                    small += free[g];
                }
            }
            int wanted = gpu.kind() == GpuRequest.Kind.WHOLE ? gpu.count() : 1;
            if (!accessible || fitting < wanted || cpuFree < typical.cpuMilli()) {
                return total;
            }
            return small;
        }

        private static double sigmoid(double x)
        {
            return 1.0 / (1.0 + Math.exp(-x));
        }
    }
}

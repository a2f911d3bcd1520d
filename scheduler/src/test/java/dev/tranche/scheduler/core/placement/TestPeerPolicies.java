package dev.tranche.scheduler.core.placement;

import dev.tranche.scheduler.core.model.GpuRequest;
import dev.tranche.scheduler.core.model.Node;
import dev.tranche.scheduler.core.model.ReplicaPlacement;
import dev.tranche.scheduler.core.model.ResourceRequest;
import dev.tranche.scheduler.core.model.WorkloadShape;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/** The published simulator's policies, scored as its code scores them, on clusters small enough to check by hand. */
class TestPeerPolicies
{
    private static ResourceRequest request(GpuRequest gpu, long cpu)
    {
        return new ResourceRequest(gpu, cpu, 0);
    }

    private static Placer placer(PlacementPolicy policy, List<Node> nodes, List<WorkloadShape> workload, int... tieOrder)
    {
        ClusterState state = new ClusterState(nodes, policy.needsTaskKinds());
        return new Placer(state, policy.open(state, workload), new SplittableRandom(1), tieOrder.length == 0 ? null : tieOrder);
    }

    private static List<Node> nodes(int count, int gpus)
    {
        return java.util.stream.IntStream.range(0, count).mapToObj(i -> Node.of("n" + i, 64_000, 262_144, gpus, "T4", 15_360)).toList();
    }

    @Test
    void tiesGoToTheFirstNodeOfTheTieOrder()
    {
        for (PlacementPolicy policy : List.of(new DotProductPolicy(), new GpuPackingPolicy(), new GpuClusteringPolicy(), new ClassicFgdPolicy())) {
            Placer placer = placer(policy, nodes(3, 2), List.of(), 2, 0, 1);
            assertThat(placer.place(request(GpuRequest.none(), 1_000)).orElseThrow().node()).as(policy.name()).isEqualTo("n1");
            Placer byName = placer(policy, nodes(3, 2), List.of());
            assertThat(byName.place(request(GpuRequest.none(), 1_000)).orElseThrow().node()).as(policy.name()).isEqualTo("n0");
        }
    }

    @Test
    void gpuPackingPrefersSharedGpusThenNodesInUseThenTheSmallestIdleNode()
    {
        List<Node> nodes = List.of(Node.of("big", 64_000, 262_144, 8, "T4", 15_360), Node.of("small", 64_000, 262_144, 2, "T4", 15_360),
                Node.of("used", 64_000, 262_144, 4, "T4", 15_360));
        ClusterState state = new ClusterState(nodes);
        PlacementPolicy.Scorer scorer = new GpuPackingPolicy().open(state, List.of());
        state.allocate(new ReplicaPlacement("used", Map.of(0, 700), 1_000, 0));
        ResourceRequest quarter = request(GpuRequest.fraction(250), 1_000);
        // idle nodes: max(free GPUs, 33 - free GPUs)
        assertThat(scorer.score(state.shapeOf(0), quarter, new GpuChoice(new int[] {0}, new int[] {250}))).isEqualTo(25);
        assertThat(scorer.score(state.shapeOf(1), quarter, new GpuChoice(new int[] {0}, new int[] {250}))).isEqualTo(31);
        // a shared GPU with 30% free: 100 - 30 / 10
        assertThat(scorer.score(state.shapeOf(2), quarter, new GpuChoice(new int[] {0}, new int[] {250}))).isEqualTo(97);
        // a whole GPU on a node in use: 50 - 1
        assertThat(scorer.score(state.shapeOf(2), request(GpuRequest.whole(1), 1_000), new GpuChoice(new int[] {1}, new int[] {1000}))).isEqualTo(49);
        assertThat(placer(new GpuPackingPolicy(), nodes, List.of()).place(quarter).orElseThrow().node()).isEqualTo("small");
    }

    @Test
    void gpuClusteringKeepsTaskKindsTogether()
    {
        List<Node> nodes = nodes(3, 4);
        Placer placer = placer(new GpuClusteringPolicy(), nodes, List.of(), 0, 1, 2);
        ResourceRequest share = request(GpuRequest.fraction(300), 1_000);
        ResourceRequest whole = request(GpuRequest.whole(1), 1_000);
        assertThat(placer.place(share).orElseThrow().node()).isEqualTo("n0");
        // an idle node (25..50) beats a node running only another kind (0..25)
        assertThat(placer.place(whole).orElseThrow().node()).isEqualTo("n1");
        // then each kind goes to the node running only its own kind (75..100)
        assertThat(placer.place(share).orElseThrow().node()).isEqualTo("n0");
        assertThat(placer.place(whole).orElseThrow().node()).isEqualTo("n1");
        ClusterState state = placer.state();
        assertThat(state.shapeOf(0).taskKinds()).isEqualTo(1);
        assertThat(state.shapeOf(1).taskKinds()).isEqualTo(2);
        assertThat(state.shapeOf(2).taskKinds()).isZero();
    }

    @Test
    void dotProductScoresTheFreeResourcesBeforePlacing()
    {
        ClusterState state = new ClusterState(nodes(1, 4));
        PlacementPolicy.Scorer scorer = new DotProductPolicy().open(state, List.of());
        // node (64000/128000, 4000/8000), task (32000/128000, 1000/8000): dot / 2 = (0.125 + 0.0625) / 2
        double score = scorer.score(state.shapeOf(0), request(GpuRequest.whole(1), 32_000), new GpuChoice(new int[] {0}, new int[] {1000}));
        assertThat(score).isEqualTo(90);
    }

    @Test
    void classicFgdScoresAreTheSimulatorsDiscreteSigmoid()
    {
        // typical shapes: 95% cut keeps the two most popular (60 + 39 of 100), renormalised to 60/99 and 39/99
        List<WorkloadShape> workload = List.of(
                new WorkloadShape(request(GpuRequest.whole(1), 1_000), 60),
                new WorkloadShape(request(GpuRequest.none(), 1_000), 39),
                new WorkloadShape(request(GpuRequest.fraction(500), 1_000), 1));
        ClusterState state = new ClusterState(nodes(1, 2));
        PlacementPolicy.Scorer scorer = new ClassicFgdPolicy().open(state, workload);
        // before: whole GPUs fit (no fragment) + CPU-only sees all 2000 free: 2000 * 39/99
        // after a half GPU on GPU 0: one whole GPU still fits, 500 milli are a fragment for it; CPU-only sees 1500
        double before = 2000 * 39 / 99.0;
        double after = 500 * 60 / 99.0 + 1500 * 39 / 99.0;
        long expected = (long) (100 / (1 + Math.exp(-(before - after) / 1000)));
        double score = scorer.score(state.shapeOf(0), request(GpuRequest.fraction(500), 1_000), new GpuChoice(new int[] {0}, new int[] {500}));
        assertThat(score).isEqualTo(expected);
        assertThat(expected).isEqualTo(47);
    }

    @Test
    void randomSpreadsOverFittingNodesAndGpus()
    {
        Placer placer = placer(new RandomPolicy(), nodes(4, 2), List.of());
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (int i = 0; i < 8; i++) {
            ReplicaPlacement placed = placer.place(request(GpuRequest.fraction(100), 1_000)).orElseThrow();
            seen.add(placed.node() + "/" + placed.gpuMilli().keySet());
        }
        assertThat(seen.size()).isGreaterThan(3);
    }
}

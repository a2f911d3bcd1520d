package dev.tranche.scheduler.core.placement;

import dev.tranche.scheduler.core.model.Gpu;
import dev.tranche.scheduler.core.model.GpuRequest;
import dev.tranche.scheduler.core.model.Node;
import dev.tranche.scheduler.core.model.ResourceRequest;
import dev.tranche.scheduler.core.model.WorkloadShape;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A node's capacity for a request is what the placer can actually put there, one replica at a time,
 * and "why not" names the same nodes: capacity, placement and explanations read one list of checks.
 */
class TestFitChecks
{
    private static final List<WorkloadShape> WORKLOAD = List.of(new WorkloadShape(new ResourceRequest(GpuRequest.whole(1), 1_000, 1_024), 1));

    @Property(tries = 300)
    void capacityIsExactlyWhatThePlacerPlacesOnTheNode(@ForAll long seed, @ForAll @IntRange(min = 0, max = 7) int policyIndex)
    {
        SplittableRandom random = new SplittableRandom(seed);
        PlacementPolicy policy = PlacementPolicies.byName(PlacementPolicies.names().get(policyIndex));
        ClusterState placed = new ClusterState(List.of(randomNode(random, "n0")), policy.needsTaskKinds());
        fillAtRandom(placed, new Placer(placed, policy.open(placed, WORKLOAD), random), random);
        // a fresh placer: the one above claimed the state's shape caches
        ClusterState copy = new ClusterState(placed);
        Placer placer = new Placer(copy, policy.open(copy, WORKLOAD), random);
        ResourceRequest request = randomRequest(random);

        int capacity = copy.capacity(0, request);
        assertThat(copy.capacity(0, copy.cpuFree(0), copy.memoryFree(0), copy.gpuFreeCopy(0), request)).isEqualTo(capacity);
        assertThat(placer.explain(request).fittingNodes()).isEqualTo(capacity > 0 ? 1 : 0);
        // every request asks for memory, so capacity is bounded by the node's 64 GiB
        for (int i = 0; i < capacity; i++) {
            assertThat(placer.place(request)).isPresent();
        }
        assertThat(placer.place(request)).isEmpty();
        assertThat(copy.capacity(0, request)).isZero();
        FitReport report = placer.explain(request);
        assertThat(report.fittingNodes()).isZero();
        assertThat(report.nodesByFailure()).containsOnlyKeys(FitChecks.firstFailure(copy.shapeOf(0).room(), request));
    }

    @Property(tries = 200)
    void theExplanationsCountTheNodesCapacityCounts(@ForAll long seed, @ForAll @IntRange(min = 1, max = 10) int nodeCount)
    {
        SplittableRandom random = new SplittableRandom(seed);
        ClusterState state = randomCluster(random, nodeCount);
        Placer placer = new Placer(state, new BestFitPolicy().open(state, WORKLOAD), random);
        fillAtRandom(state, placer, random);
        ResourceRequest request = randomRequest(random);

        int fitting = 0;
        long emptyReplicas = 0;
        for (int node = 0; node < state.nodeCount(); node++) {
            fitting += state.capacity(node, request) > 0 ? 1 : 0;
            emptyReplicas += FitChecks.replicas(NodeRoom.empty(state.node(node)), request);
        }
        FitReport now = placer.explain(request);
        assertThat(now.fittingNodes()).isEqualTo(fitting);
        assertThat(now.nodesByFailure().values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(nodeCount - fitting);
        assertThat(placer.explainEmpty(request).replicas()).isEqualTo(emptyReplicas);
    }

    @Property(tries = 100)
    void aNodeFailsTheFirstCheckInOrder(@ForAll long seed)
    {
        SplittableRandom random = new SplittableRandom(seed);
        Node node = randomNode(random, "n");
        NodeRoom room = NodeRoom.empty(node);
        ResourceRequest request = randomRequest(random);
        FitFailure failure = FitChecks.firstFailure(room, request);

        assertThat(failure == null).isEqualTo(FitChecks.replicas(room, request) > 0);
        if (request.cpuMilli() > node.cpuMilli()) {
            assertThat(failure).isEqualTo(FitFailure.INSUFFICIENT_CPU);
        }
        else if (!request.gpu().isNone() && node.gpus().size() < request.gpu().count()) {
            assertThat(failure).isEqualTo(FitFailure.TOO_FEW_GPUS);
        }
    }

    private static void fillAtRandom(ClusterState state, Placer placer, SplittableRandom random)
    {
        int steps = random.nextInt(12);
        for (int step = 0; step < steps; step++) {
            placer.place(randomRequest(random));
        }
    }

    private static ClusterState randomCluster(SplittableRandom random, int nodeCount)
    {
        List<Node> nodes = new ArrayList<>();
        for (int i = 0; i < nodeCount; i++) {
            nodes.add(randomNode(random, "n" + i));
        }
        return new ClusterState(nodes);
    }

    private static Node randomNode(SplittableRandom random, String name)
    {
        List<Gpu> gpus = new ArrayList<>();
        int count = random.nextInt(9);
        for (int g = 0; g < count; g++) {
            gpus.add(new Gpu(g, random.nextInt(4) == 0 ? "B" : "A", random.nextBoolean() ? 16_384 : 40_960));
        }
        return new Node(name, random.nextInt(9) * 8_000L, 65_536, gpus, random.nextInt(8) > 0);
    }

    private static ResourceRequest randomRequest(SplittableRandom random)
    {
        GpuRequest gpu = switch (random.nextInt(4)) {
            case 0 -> GpuRequest.none();
            case 1 -> GpuRequest.fraction(1 + random.nextInt(1000));
            case 2 -> GpuRequest.whole(1 + random.nextInt(3));
            default -> GpuRequest.memory(1 + random.nextInt(30_000));
        };
        if (!gpu.isNone() && random.nextInt(5) == 0) {
            gpu = gpu.onModels(Set.of("B"));
        }
        return new ResourceRequest(gpu, random.nextInt(5) * 1_000L, 1_024 + random.nextInt(4) * 4_096L);
    }
}

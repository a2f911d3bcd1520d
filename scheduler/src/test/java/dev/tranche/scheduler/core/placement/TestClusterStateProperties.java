package dev.tranche.scheduler.core.placement;

import dev.tranche.scheduler.core.model.Gpu;
import dev.tranche.scheduler.core.model.GpuRequest;
import dev.tranche.scheduler.core.model.Node;
import dev.tranche.scheduler.core.model.ReplicaPlacement;
import dev.tranche.scheduler.core.model.ResourceRequest;
import dev.tranche.scheduler.core.model.WorkloadShape;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The shape index stays true to the nodes through any mix of placements and releases, and the placer
 * finds room exactly when some node has it.
 */
class TestClusterStateProperties
{
    @Property(tries = 200)
    void shapesMatchTheNodesAfterAnyPlacementsAndReleases(@ForAll long seed, @ForAll @IntRange(min = 1, max = 12) int nodeCount, @ForAll @IntRange(min = 0, max = 7) int policyIndex)
    {
        SplittableRandom random = new SplittableRandom(seed);
        List<Node> nodes = new ArrayList<>();
        for (int i = 0; i < nodeCount; i++) {
            List<Gpu> gpus = new ArrayList<>();
            int count = random.nextInt(9);
            for (int g = 0; g < count; g++) {
                // mixed kinds on one node, and device indexes that are not positions
                gpus.add(new Gpu(10 + g, random.nextInt(4) == 0 ? "B" : "A", random.nextBoolean() ? 16_384 : 40_960));
            }
            nodes.add(new Node("n" + i, 8_000 + random.nextInt(8) * 8_000L, 65_536, gpus, random.nextInt(8) > 0));
        }
        PlacementPolicy policy = PlacementPolicies.byName(PlacementPolicies.names().get(policyIndex));
        ClusterState state = new ClusterState(nodes, policy.needsTaskKinds());
        List<WorkloadShape> workload = List.of(new WorkloadShape(request(GpuRequest.whole(1), 1_000), 1), new WorkloadShape(request(GpuRequest.fraction(500), 1_000), 1));
        Placer placer = new Placer(state, policy.open(state, workload), random);
        List<ReplicaPlacement> placed = new ArrayList<>();
        for (int step = 0; step < 200; step++) {
            if (!placed.isEmpty() && random.nextInt(3) == 0) {
                state.release(placed.remove(random.nextInt(placed.size())));
            }
            else {
                ResourceRequest request = randomRequest(random);
                boolean someNodeHasRoom = false;
                for (int node = 0; node < state.nodeCount(); node++) {
                    someNodeHasRoom |= state.capacity(node, request) > 0;
                }
                Optional<ReplicaPlacement> placement = placer.place(request);
                assertThat(placement.isPresent()).isEqualTo(someNodeHasRoom);
                placement.ifPresent(placed::add);
            }
            checkIndex(state);
        }
        placed.forEach(state::release);
        assertThat(state.allocatedGpuMilli()).isZero();
        checkIndex(state);
    }

    private static void checkIndex(ClusterState state)
    {
        int members = 0;
        for (NodeShape shape : state.shapes()) {
            assertThat(shape.size()).isPositive();
            members += shape.size();
        }
        assertThat(members).isEqualTo(state.nodeCount());
        long allocated = 0;
        for (int node = 0; node < state.nodeCount(); node++) {
            NodeShape shape = state.shapeOf(node);
            assertThat(state.shapes()).contains(shape);
            assertThat(shape.cpuFree()).isEqualTo(state.cpuFree(node));
            assertThat(shape.memoryFree()).isEqualTo(state.memoryFree(node));
            int gpus = state.node(node).gpus().size();
            int[] actual = new int[gpus];
            int[] indexed = new int[gpus];
            for (int g = 0; g < gpus; g++) {
                actual[g] = state.gpuFree(node, g);
                indexed[g] = shape.gpuFree(g);
                allocated += 1000 - actual[g];
            }
            Arrays.sort(actual);
            Arrays.sort(indexed);
            assertThat(indexed).isEqualTo(actual);
        }
        assertThat(state.allocatedGpuMilli()).isEqualTo(allocated);
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
        return request(gpu, random.nextInt(9) * 1_000L);
    }

    private static ResourceRequest request(GpuRequest gpu, long cpu)
    {
        return new ResourceRequest(gpu, cpu, 1_024);
    }
}

package dev.tranche.scheduler.core;

import dev.tranche.scheduler.core.model.GpuRequest;
import dev.tranche.scheduler.core.model.Node;
import dev.tranche.scheduler.core.model.ReplicaPlacement;
import dev.tranche.scheduler.core.model.ResourceRequest;
import dev.tranche.scheduler.core.model.RunningAllocation;
import dev.tranche.scheduler.core.model.ServiceHistory;
import dev.tranche.scheduler.core.placement.ClusterState;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The drain estimate built from the cycle's loaded table answers as one built from the records, and
 * both as a plain oracle: a node has room once its work, shortest expected first, has freed enough.
 * Up to ~120 pieces on a node; also with part of the work loaded and the rest added, as a cycle adds its placements.
 */
class TestDrainEstimate
{
    @Property(tries = 300)
    void theLoadedTableAndTheRecordsGiveTheOraclesAnswer(@ForAll long seed, @ForAll @IntRange(min = 0, max = 120) int pieces, @ForAll @IntRange(min = 0, max = 3) int gangs)
    {
        SplittableRandom random = new SplittableRandom(seed);
        List<Node> nodes = List.of(Fixtures.node("a", 8), Fixtures.node("b", 8));
        Map<String, Long> attained = new HashMap<>();
        List<RunningAllocation> running = new ArrayList<>();
        // fractions on node a, GPU i % 8, at most 15 pieces of at most 66 milli per GPU (fits in 1,000)
        for (int i = 0; i < pieces; i++) {
            String id = "f" + i;
            int milli = 1 + random.nextInt(66);
            running.add(new RunningAllocation(id, "p", 0, true, i, List.of(new ReplicaPlacement("a", Map.of(i % 8, milli), 0, 0))));
            // few distinct run times, so that ties occur; some below the minimum
            attained.put(id, random.nextInt(6) * 300L * milli / 1000);
        }
        // gangs of two replicas, one on each node, on GPU 7 of b (and 7 of a when a has room)
        for (int g = 0; g < gangs; g++) {
            String id = "g" + g;
            running.add(new RunningAllocation(id, "p", 0, true, 1_000 + g, List.of(
                    new ReplicaPlacement("a", Map.of(7, 1), 0, 0),
                    new ReplicaPlacement("b", Map.of(g, 1000), 0, 0))));
            attained.put(id, (long) random.nextInt(10_000));
        }
        ServiceHistory history = ServiceHistory.attained(attained);

        Loaded loaded = Loaded.of(nodes, running);
        ClusterState state = loaded.state();
        CycleMemo.Table table = loaded.table();
        DrainEstimate fromTable = new DrainEstimate(state, history);
        fromTable.addRunning(table, Set.of());
        DrainEstimate fromRecords = new DrainEstimate(state, history);
        running.forEach(allocation -> fromRecords.add(allocation.experimentId(), allocation.replicas()));
        // as a cycle has it: the loaded work first, then what the cycle placed (here: every other allocation)
        List<RunningAllocation> loadedPart = new ArrayList<>();
        List<RunningAllocation> placedPart = new ArrayList<>();
        for (int i = 0; i < running.size(); i++) {
            (i % 2 == 0 ? loadedPart : placedPart).add(running.get(i));
        }
        DrainEstimate mixed = new DrainEstimate(state, history);
        mixed.addRunning(Loaded.of(nodes, loadedPart).table(), Set.of());
        placedPart.forEach(allocation -> mixed.add(allocation.experimentId(), allocation.replicas()));

        for (int node = 0; node < nodes.size(); node++) {
            for (int count = 1; count <= 8; count++) {
                ResourceRequest request = new ResourceRequest(GpuRequest.whole(count), 0, 0);
                for (int replicas = 1; replicas <= 2; replicas++) {
                    long expected = oracle(state, node, nodes.get(node).name(), running, history, count * 1000L * replicas);
                    assertThat(fromTable.secondsUntilRoom(node, request, replicas)).as("node %d, %d x %d GPUs", node, replicas, count).isEqualTo(expected);
                    assertThat(fromRecords.secondsUntilRoom(node, request, replicas)).as("node %d, %d x %d GPUs", node, replicas, count).isEqualTo(expected);
                    assertThat(mixed.secondsUntilRoom(node, request, replicas)).as("node %d, %d x %d GPUs", node, replicas, count).isEqualTo(expected);
                }
            }
        }
    }

    @Property(tries = 50)
    void evictedWorkFreesNothing(@ForAll long seed)
    {
        SplittableRandom random = new SplittableRandom(seed);
        List<Node> nodes = List.of(Fixtures.node("a", 8));
        List<RunningAllocation> running = List.of(
                Fixtures.running("short", "p", 0, true, 1, "a", 0, 1, 2, 3),
                Fixtures.running("long", "p", 0, true, 2, "a", 4, 5, 6, 7));
        long longRan = 3_600 + random.nextInt(100_000);
        // GPU-seconds over 4 GPUs: "long" has run longRan seconds, "short" nothing
        ServiceHistory history = ServiceHistory.attained(Map.of("long", longRan * 4));
        Loaded loaded = Loaded.of(nodes, running);
        ClusterState state = loaded.state();
        CycleMemo.Table table = loaded.table();
        ResourceRequest four = new ResourceRequest(GpuRequest.whole(4), 0, 0);

        DrainEstimate all = new DrainEstimate(state, history);
        all.addRunning(table, Set.of());
        assertThat(all.secondsUntilRoom(0, four, 1)).isEqualTo(DrainEstimate.MIN_REMAINING_SECONDS);
        assertThat(all.secondsUntilRoom(0, four, 2)).isEqualTo(longRan);
        assertThatThrownBy(() -> all.addRunning(table, Set.of())).as("the loaded work is added once").isInstanceOf(IllegalStateException.class);

        // with "short" evicted, only "long" is left to free anything: its time is the answer for one
        DrainEstimate withoutShort = new DrainEstimate(state, history);
        withoutShort.addRunning(table, Set.of("short"));
        assertThat(withoutShort.secondsUntilRoom(0, four, 1)).isEqualTo(longRan);
    }

    /** The running work loaded as a cycle loads it: the cluster state holding it, and the table it was read into. */
    private record Loaded(ClusterState state, CycleMemo.Table table)
    {
        static Loaded of(List<Node> nodes, List<RunningAllocation> running)
        {
            CycleMemo memo = new CycleMemo();
            ClusterState state = memo.emptyCluster(nodes, false);
            CycleMemo.Table table = memo.load(running, state);
            state.allocateRows(table.rows, table.node, table.cpu, table.memory, table.gpuStart, table.gpuPosition, table.gpuMilli);
            return new Loaded(state, table);
        }
    }

    /** Seconds until the node frees {@code milli} beyond what is free now, shortest expected work first. */
    private static long oracle(ClusterState state, int node, String nodeName, List<RunningAllocation> running, ServiceHistory history, long milli)
    {
        long need = milli - state.freeGpuMilli(node);
        if (need <= 0) {
            return 0;
        }
        record Piece(long seconds, long milli) {}
        List<Piece> pieces = new ArrayList<>();
        for (RunningAllocation allocation : running) {
            long total = allocation.gpuMilli();
            long seconds = Math.max(history.attainedGpuSeconds(allocation.experimentId()) * 1000 / total, DrainEstimate.MIN_REMAINING_SECONDS);
            for (ReplicaPlacement replica : allocation.replicas()) {
                if (replica.node().equals(nodeName)) {
                    pieces.add(new Piece(seconds, replica.totalGpuMilli()));
                }
            }
        }
        pieces.sort(Comparator.comparingLong(Piece::seconds));
        long seconds = 0;
        for (Piece piece : pieces) {
            if (need <= 0) {
                break;
            }
            need -= piece.milli();
            seconds = piece.seconds();
        }
        return seconds;
    }
}

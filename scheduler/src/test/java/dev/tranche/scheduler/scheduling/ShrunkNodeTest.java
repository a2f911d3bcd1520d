package dev.tranche.scheduler.scheduling;

import dev.tranche.proto.v1.ExperimentSpec;
import dev.tranche.proto.v1.GpuRequest;
import dev.tranche.scheduler.core.model.Node;
import dev.tranche.scheduler.core.model.ReplicaPlacement;
import dev.tranche.scheduler.errors.StoreException;
import dev.tranche.scheduler.experiment.ExperimentEventBus;
import dev.tranche.scheduler.inventory.NodeUsage;
import dev.tranche.scheduler.server.SchedulerServer;
import dev.tranche.scheduler.store.ClusterRepository;
import dev.tranche.scheduler.store.ExperimentRepository;
import dev.tranche.scheduler.store.PlacementWriter;
import dev.tranche.scheduler.telemetry.SchedulerMetrics;
import dev.tranche.scheduler.testing.Specs;
import dev.tranche.scheduler.testing.TestingDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A node that reports less CPU or memory than its placements hold (a smaller --node-cpu after a
 * restart, a Kubernetes node whose allocatable shrank). Against real PostgreSQL: the report is the
 * truth and is stored, with the other nodes of the same report; the node keeps what runs on it but
 * takes nothing new until its placements fit again, and the registration says which node shrank and
 * by how much. Before, the database's check refused the whole registration (a scheduler with a
 * smaller --node-cpu did not start, a Kubernetes inventory stopped being updated).
 */
final class ShrunkNodeTest
{
    @RegisterExtension
    static final TestingDatabase database = new TestingDatabase();

    @Test
    void aNodeThatShrankBelowItsPlacementsIsStoredKeepsThemAndTakesNothingNewUntilTheyFit()
            throws Exception
    {
        ClusterRepository cluster = new ClusterRepository(database.dataSource());
        ExperimentRepository experiments = new ExperimentRepository(database.dataSource());
        PlacementWriter writer = new PlacementWriter(database.dataSource());
        assertThat(cluster.registerNodes(List.of(node("big", 32_000, 131_072, 2), node("other", 32_000, 131_072, 1)))).isEmpty();
        experiments.insert("exp-shrunk0001", Specs.accepted(wholeGpu("running")), Optional.empty(), "submitted");
        writer.place("exp-shrunk0001", List.of(new ReplicaPlacement("big", Map.of(0, 1000), 8_000, 16_384)), "placed", List.of());

        // "big" now has 4 cores and 8 GiB, half of what its placement holds; "other" grew; "new" appears
        List<ClusterRepository.Shrunk> shrunk = cluster.registerNodes(List.of(node("big", 4_000, 8_192, 2), node("other", 64_000, 131_072, 1),
                node("new", 16_000, 65_536, 0)));

        assertThat(shrunk).singleElement().satisfies(node -> {
            assertThat(node.name()).isEqualTo("big");
            assertThat(node.message()).isEqualTo("node big now reports 4000 CPU milli and 8192 MiB of memory (before: 32000 and 131072),"
                    + " less than its placements hold (8000 CPU milli and 16384 MiB): they keep running, but the node takes no new placements"
                    + " until they fit");
        });
        Map<String, NodeUsage> nodes = byName(cluster.nodes());
        assertThat(nodes).containsOnlyKeys("big", "other", "new");
        assertThat(nodes.get("big").node().cpuMilli()).isEqualTo(4_000);
        assertThat(nodes.get("big").node().memoryMib()).isEqualTo(8_192);
        assertThat(nodes.get("big").usedCpuMilli()).isEqualTo(8_000);
        assertThat(nodes.get("big").node().schedulable()).as("over-committed: nothing new goes there").isFalse();
        assertThat(nodes.get("other").node().cpuMilli()).isEqualTo(64_000);
        assertThat(nodes.get("other").node().schedulable()).isTrue();
        assertThat(nodes.get("new").node().schedulable()).isTrue();

        // the same report again: nothing shrank this time
        assertThat(cluster.registerNodes(List.of(node("big", 4_000, 8_192, 2), node("other", 64_000, 131_072, 1), node("new", 16_000, 65_536, 0))))
                .isEmpty();

        // the database itself refuses more on it
        experiments.insert("exp-shrunk0002", Specs.accepted(wholeGpu("by-hand")), Optional.empty(), "submitted");
        assertThatThrownBy(() -> writer.place("exp-shrunk0002", List.of(new ReplicaPlacement("big", Map.of(1, 1000), 1_000, 1_024)), "placed", List.of()))
                .isInstanceOf(StoreException.class)
                .hasMessageContaining("node_cpu_not_overcommitted");

        // a cycle loads what runs on it without failing, and places new work elsewhere: best-fit would
        // have packed it onto big's free GPU
        SchedulingLoop loop = new SchedulingLoop(cluster, writer, new ExperimentEventBus(), SchedulerServer.productionCycle("best-fit"),
                new SchedulerMetrics(), Duration.ofSeconds(1), Duration.ofMillis(200), 16);
        SchedulingLoop.CycleReport report = loop.cycle(List.of(loop.reader().readNow()));
        assertThat(report.failed()).isZero();
        assertThat(report.placed()).isEqualTo(1);
        assertThat(database.count("SELECT count(*) FROM gpu_allocations WHERE experiment_id = 'exp-shrunk0002' AND node = 'other'")).isEqualTo(1);
        loop.close();

        // once its placements fit again it takes work again
        database.execute("DELETE FROM replica_placements WHERE experiment_id = 'exp-shrunk0001'");
        assertThat(byName(cluster.nodes()).get("big").node().schedulable()).isTrue();
    }

    private static Node node(String name, long cpuMilli, long memoryMib, int gpus)
    {
        return Node.of(name, cpuMilli, memoryMib, gpus, "SIM-24G", 24 * 1024);
    }

    private static Map<String, NodeUsage> byName(List<NodeUsage> nodes)
    {
        Map<String, NodeUsage> out = new java.util.TreeMap<>();
        nodes.forEach(node -> out.put(node.node().name(), node));
        return out;
    }

    private static ExperimentSpec wholeGpu(String name)
    {
        ExperimentSpec spec = Specs.named(name, "default");
        return spec.toBuilder().setResources(spec.getResources().toBuilder().setGpu(GpuRequest.newBuilder().setCount(1))).build();
    }
}

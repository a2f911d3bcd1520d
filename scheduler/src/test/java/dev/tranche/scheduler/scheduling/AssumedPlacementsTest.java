package dev.tranche.scheduler.scheduling;

import dev.tranche.proto.v1.ExperimentSpec;
import dev.tranche.proto.v1.GpuRequest;
import dev.tranche.scheduler.experiment.ExperimentEventBus;
import dev.tranche.scheduler.inventory.DeclaredInventory;
import dev.tranche.scheduler.server.SchedulerServer;
import dev.tranche.scheduler.store.ClusterRepository;
import dev.tranche.scheduler.store.ExperimentRepository;
import dev.tranche.scheduler.store.PlacementWriter;
import dev.tranche.scheduler.telemetry.SchedulerMetrics;
import dev.tranche.scheduler.testing.Specs;
import dev.tranche.scheduler.testing.TestingDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The scheduling loop decides from views of the store read in the background, so a cycle can run on
 * a view read before the loop's own last placement committed. Against real PostgreSQL: such a view
 * must not make the loop count the placed experiment's GPU as free, nor offer that experiment again.
 */
final class AssumedPlacementsTest
{
    @RegisterExtension
    static final TestingDatabase database = new TestingDatabase();

    @Test
    void aViewOlderThanTheLoopsOwnPlacementNeitherFreesItsGpuNorOffersItAgain()
            throws Exception
    {
        ClusterRepository cluster = new ClusterRepository(database.dataSource());
        ExperimentRepository experiments = new ExperimentRepository(database.dataSource());
        // one node with one GPU; two experiments that each want the whole GPU
        cluster.registerNodes(DeclaredInventory.of(1, 1, 24 * 1024).nodes());
        experiments.insert("exp-assumed001", Specs.accepted(wholeGpu("first")), Optional.empty(), "submitted");
        experiments.insert("exp-assumed002", Specs.accepted(wholeGpu("second")), Optional.empty(), "submitted");
        SchedulingLoop loop = new SchedulingLoop(cluster, new PlacementWriter(database.dataSource()), new ExperimentEventBus(),
                SchedulerServer.productionCycle("best-fit"), new SchedulerMetrics(), Duration.ofSeconds(1), Duration.ofMillis(200), 16);
        ClusterViewReader reader = loop.reader();

        ClusterViewReader.View first = reader.readNow();
        // something else writes the first experiment's row before the next read: that read brings it
        // again, still PENDING, although by the time a cycle uses it the loop has placed it
        try (Connection connection = database.dataSource().getConnection(); Statement statement = connection.createStatement()) {
            statement.executeUpdate("UPDATE experiments SET reason = 'touched' WHERE id = 'exp-assumed001'");
        }
        ClusterViewReader.View stale = reader.readNow();
        assertThat(stale.snapshot().pending()).extracting(ClusterRepository.Queued::id).containsExactly("exp-assumed001");
        assertThat(reader.drain()).containsExactly(first, stale);

        SchedulingLoop.CycleReport placing = loop.cycle(List.of(first));
        assertThat(placing.placed()).isEqualTo(1);
        assertThat(database.heldGpuMilli("exp-assumed001")).isEqualTo(1000);

        // the stale view shows the GPU free and the first experiment waiting: the loop knows better
        SchedulingLoop.CycleReport onStale = loop.cycle(List.of(stale));
        assertThat(onStale.placed()).isZero();
        assertThat(onStale.failed()).as("placements the database refused because the view was old").isZero();

        // a view read after the placement shows it, and the assumption gives way to it
        SchedulingLoop.CycleReport onFresh = loop.cycle(List.of(reader.readNow()));
        assertThat(onFresh.placed()).isZero();
        assertThat(onFresh.failed()).isZero();
        assertThat(onFresh.waiting()).as("only the second experiment waits").isEqualTo(1);
        assertThat(database.heldGpuMilli("exp-assumed001")).isEqualTo(1000);
        assertThat(database.heldGpuMilli("exp-assumed002")).isZero();
        loop.close();
    }

    private static ExperimentSpec wholeGpu(String name)
    {
        ExperimentSpec spec = Specs.named(name, "default");
        return spec.toBuilder().setResources(spec.getResources().toBuilder().setGpu(GpuRequest.newBuilder().setCount(1))).build();
    }
}

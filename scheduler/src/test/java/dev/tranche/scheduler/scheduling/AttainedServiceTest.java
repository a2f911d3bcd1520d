package dev.tranche.scheduler.scheduling;

import dev.tranche.proto.v1.ExperimentSpec;
import dev.tranche.proto.v1.GpuRequest;
import dev.tranche.scheduler.experiment.ExperimentEventBus;
import dev.tranche.scheduler.experiment.ExperimentState;
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

import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The live server ranks by attained GPU service as replays do: an attempt's GPU time is counted when
 * it releases its GPUs, the running attempt counts up to the view, and the production ordering puts
 * a requeued experiment that already had hours of GPU behind a fresh one. Against real PostgreSQL.
 */
final class AttainedServiceTest
{
    @RegisterExtension
    static final TestingDatabase database = new TestingDatabase();

    @Test
    void aRequeuedExperimentWithHoursOfGpuServiceWaitsBehindAFreshOne()
            throws Exception
    {
        ClusterRepository cluster = new ClusterRepository(database.dataSource());
        ExperimentRepository experiments = new ExperimentRepository(database.dataSource());
        cluster.registerNodes(DeclaredInventory.of(1, 2, 24 * 1024).nodes());
        experiments.insert("exp-attained01", Specs.accepted(gpus("served", 2)), Optional.empty(), "submitted");
        SchedulingLoop loop = new SchedulingLoop(cluster, new PlacementWriter(database.dataSource()), new ExperimentEventBus(),
                SchedulerServer.productionCycle("best-fit"), new SchedulerMetrics(), Duration.ofSeconds(1), Duration.ofMillis(200), 16);
        ClusterViewReader reader = loop.reader();
        assertThat(loop.cycle(List.of(reader.readNow())).placed()).isEqualTo(1);

        // it has run on both GPUs for an hour: the view counts the running attempt
        database.execute("UPDATE replica_placements SET placed_at = now() - interval '1 hour' WHERE experiment_id = 'exp-attained01'");
        ClusterRepository.Held held = reader.readNow().snapshot().held().get(0);
        assertThat(held.attainedGpuSeconds()).isCloseTo(7_200L, within(30L));
        assertThat(experiments.find("exp-attained01").orElseThrow().attainedGpuSeconds()).as("what describe shows while it runs").isCloseTo(7_200L, within(30L));

        // preempted after that hour and requeued: the ended attempt is kept, 2 GPU-hours
        experiments.transition("exp-attained01", EnumSet.of(ExperimentState.SCHEDULED, ExperimentState.RUNNING), ExperimentState.PREEMPTED, "preempted");
        experiments.transition("exp-attained01", EnumSet.of(ExperimentState.PREEMPTED), ExperimentState.PENDING, "requeued");
        assertThat(attainedGpuSeconds("exp-attained01")).isCloseTo(7_200L, within(30L));
        assertThat(experiments.find("exp-attained01").orElseThrow().attainedGpuSeconds()).isEqualTo(attainedGpuSeconds("exp-attained01"));
        assertThat(database.heldGpuMilli("exp-attained01")).isZero();

        // a fresh experiment of the same project arrives later; room for one of them
        experiments.insert("exp-attained02", Specs.accepted(gpus("fresh", 2)), Optional.empty(), "submitted");
        SchedulingLoop.CycleReport cycle = loop.cycle(List.of(reader.readNow()));
        assertThat(cycle.placed()).isEqualTo(1);
        assertThat(database.heldGpuMilli("exp-attained02")).as("the fresh experiment, least attained service, goes first").isEqualTo(2_000);
        assertThat(database.heldGpuMilli("exp-attained01")).isZero();
        loop.close();
    }

    private static ExperimentSpec gpus(String name, int count)
    {
        ExperimentSpec spec = Specs.named(name, "default");
        return spec.toBuilder().setResources(spec.getResources().toBuilder().setGpu(GpuRequest.newBuilder().setCount(count))).build();
    }

    private static long attainedGpuSeconds(String experimentId)
            throws Exception
    {
        return database.count("SELECT attained_gpu_seconds FROM experiments WHERE id = '" + experimentId + "'");
    }
}

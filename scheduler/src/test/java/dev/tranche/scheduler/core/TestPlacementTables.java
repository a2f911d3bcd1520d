package dev.tranche.scheduler.core;

import dev.tranche.scheduler.core.model.ClusterSnapshot;
import dev.tranche.scheduler.core.model.GpuRequest;
import dev.tranche.scheduler.core.model.Node;
import dev.tranche.scheduler.core.model.PendingExperiment;
import dev.tranche.scheduler.core.model.ProjectQuota;
import dev.tranche.scheduler.core.model.ReplicaPlacement;
import dev.tranche.scheduler.core.model.ResourceRequest;
import dev.tranche.scheduler.core.model.RunningAllocation;
import dev.tranche.scheduler.core.model.WorkloadShape;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.tranche.scheduler.core.Fixtures.gpus;
import static dev.tranche.scheduler.core.Fixtures.node;
import static dev.tranche.scheduler.core.Fixtures.pending;
import static dev.tranche.scheduler.core.Fixtures.running;
import static dev.tranche.scheduler.core.Fixtures.runningFraction;
import static dev.tranche.scheduler.core.Fixtures.schedule;
import static org.assertj.core.api.Assertions.assertThat;

/** Small clusters with the placements we expect, for every placement policy where it matters. */
class TestPlacementTables
{
    private static final List<ProjectQuota> ONE_PROJECT = List.of(ProjectQuota.of("team-a", 100_000));

    @ParameterizedTest
    @ValueSource(strings = {"fgd", "fgd-classic", "best-fit", "spread"})
    void fractionsOfPointSixAndPointFiveShareANodeButNotAGpu(String policy)
    {
        Decisions decisions = Fixtures.cycle(policy).run(new ClusterSnapshot(
                List.of(node("n1", 2)),
                ONE_PROJECT,
                List.of(),
                List.of(pending("a", "team-a", gpus(GpuRequest.fraction(600))), pending("b", "team-a", gpus(GpuRequest.fraction(500))))));

        assertThat(decisions.unplaced()).isEmpty();
        ReplicaPlacement a = decisions.placementOf("a").orElseThrow().replicas().get(0);
        ReplicaPlacement b = decisions.placementOf("b").orElseThrow().replicas().get(0);
        assertThat(a.node()).isEqualTo("n1");
        assertThat(b.node()).isEqualTo("n1");
        assertThat(a.gpuMilli().values()).containsExactly(600);
        assertThat(b.gpuMilli().values()).containsExactly(500);
        assertThat(a.gpuMilli().keySet()).doesNotContainAnyElementsOf(b.gpuMilli().keySet());
    }

    @ParameterizedTest
    @ValueSource(strings = {"fgd", "fgd-classic", "best-fit"})
    void twoHalvesShareOneGpu(String policy)
    {
        Decisions decisions = Fixtures.cycle(policy).run(new ClusterSnapshot(
                List.of(node("n1", 2)),
                ONE_PROJECT,
                List.of(),
                List.of(pending("a", "team-a", gpus(GpuRequest.fraction(500))), pending("b", "team-a", gpus(GpuRequest.fraction(500))))));

        assertThat(decisions.placementOf("a").orElseThrow().replicas().get(0).gpuMilli())
                .isEqualTo(decisions.placementOf("b").orElseThrow().replicas().get(0).gpuMilli());
    }

    @Test
    void bestFitPutsAFractionOnTheFittingGpuWithTheLeastFreeMilli()
    {
        Decisions decisions = Fixtures.cycle("best-fit").run(new ClusterSnapshot(
                List.of(node("n1", 2)),
                ONE_PROJECT,
                List.of(runningFraction("r", "team-a", "n1", 1, 600)),
                List.of(pending("a", "team-a", gpus(GpuRequest.fraction(300))))));

        assertThat(decisions.placementOf("a").orElseThrow().replicas().get(0).gpuMilli()).isEqualTo(Map.of(1, 300));
    }

    @ParameterizedTest
    @ValueSource(strings = {"fgd", "fgd-classic"})
    void fgdKeepsAGpuWholeWhenTheWorkloadAsksForWholeGpus(String policy)
    {
        List<WorkloadShape> workload = List.of(new WorkloadShape(gpus(GpuRequest.whole(1)), 1), new WorkloadShape(gpus(GpuRequest.fraction(300)), 1));
        Decisions decisions = Fixtures.cycle(policy).run(new ClusterSnapshot(
                List.of(node("n1", 2)),
                ONE_PROJECT,
                List.of(),
                List.of(runningFraction("r", "team-a", "n1", 1, 600)),
                List.of(pending("a", "team-a", gpus(GpuRequest.fraction(300)))),
                workload));

        assertThat(decisions.placementOf("a").orElseThrow().replicas().get(0).gpuMilli()).isEqualTo(Map.of(1, 300));
    }

    @ParameterizedTest
    @ValueSource(strings = {"fgd", "fgd-classic"})
    void fgdLeavesRoomForTheFractionsItExpects(String policy)
    {
        // only 0.3 GPU tasks expected: a GPU with 0.4 free stays useful, 0.1 would be a fragment
        Decisions decisions = Fixtures.cycle(policy).run(new ClusterSnapshot(
                List.of(node("n1", 2)),
                ONE_PROJECT,
                List.of(runningFraction("r", "team-a", "n1", 1, 600)),
                List.of(pending("a", "team-a", gpus(GpuRequest.fraction(300))))));

        assertThat(decisions.placementOf("a").orElseThrow().replicas().get(0).gpuMilli()).isEqualTo(Map.of(0, 300));
    }

    @Test
    void spreadPutsReplicasOnTheEmptiestNode()
    {
        Decisions decisions = Fixtures.cycle("spread").run(new ClusterSnapshot(
                List.of(node("n1", 4), node("n2", 4)),
                ONE_PROJECT,
                List.of(running("r", "team-a", 0, true, 0, "n1", 0)),
                List.of(pending("a", "team-a", gpus(GpuRequest.whole(1))))));

        assertThat(decisions.placementOf("a").orElseThrow().replicas().get(0).node()).isEqualTo("n2");
    }

    @Test
    void bestFitPacksOntoTheFullerNode()
    {
        Decisions decisions = Fixtures.cycle("best-fit").run(new ClusterSnapshot(
                List.of(node("n1", 4), node("n2", 4)),
                ONE_PROJECT,
                List.of(running("r", "team-a", 0, true, 0, "n2", 0, 1)),
                List.of(pending("a", "team-a", gpus(GpuRequest.whole(1))))));

        assertThat(decisions.placementOf("a").orElseThrow().replicas().get(0).node()).isEqualTo("n2");
    }

    @Test
    void wholeGpusNeedCompletelyFreeGpus()
    {
        Decisions decisions = schedule(
                List.of(node("n1", 2)),
                ONE_PROJECT,
                List.of(runningFraction("r", "team-a", "n1", 0, 100)),
                List.of(pending("a", "team-a", gpus(GpuRequest.whole(2)))));

        assertThat(decisions.placements()).isEmpty();
        assertThat(decisions.unplacedOf("a").orElseThrow().reason()).isEqualTo(UnplacedReason.NO_FIT);
        assertThat(decisions.unplacedOf("a").orElseThrow().message())
                .isEqualTo("no node fits 1 replica (2 GPUs, 1.0 CPU, 1024 MiB): 1 node lacks free GPU");
    }

    @Test
    void aGangSpreadsOverNodesWhenNoNodeHoldsItAll()
    {
        Decisions decisions = schedule(
                List.of(node("n1", 4), node("n2", 4)),
                ONE_PROJECT,
                List.of(),
                List.of(pending("gang", "team-a", 0, 2, gpus(GpuRequest.whole(4)))));

        List<ReplicaPlacement> replicas = decisions.placementOf("gang").orElseThrow().replicas();
        assertThat(replicas).extracting(ReplicaPlacement::node).containsExactlyInAnyOrder("n1", "n2");
        assertThat(replicas).allSatisfy(replica -> assertThat(replica.gpuMilli()).isEqualTo(Map.of(0, 1000, 1, 1000, 2, 1000, 3, 1000)));
    }

    @Test
    void aGangThatDoesNotFitWholeTakesNothing()
    {
        Decisions decisions = schedule(
                List.of(node("n1", 4), node("n2", 4)),
                ONE_PROJECT,
                List.of(),
                List.of(pending("gang", "team-a", 0, 3, gpus(GpuRequest.whole(4))), pending("small", "team-a", 0, 1, gpus(GpuRequest.whole(1)))));

        assertThat(decisions.placementOf("gang")).isEmpty();
        assertThat(decisions.unplacedOf("gang").orElseThrow().message())
                .isEqualTo("only 2 of 3 replicas (4 GPUs, 1.0 CPU, 1024 MiB each) fit at once, on 2 nodes");
        // the rolled-back gang left the room for later work
        assertThat(decisions.placementOf("small")).isPresent();
    }

    @Test
    void gpuModelsConstrainTheNode()
    {
        Node t4 = Node.of("t4-node", 64_000, 262_144, 2, "T4", 15_360);
        Decisions decisions = schedule(
                List.of(node("a100-node", 2), t4),
                ONE_PROJECT,
                List.of(),
                List.of(pending("a", "team-a", gpus(GpuRequest.whole(1).onModels(Set.of("T4")))),
                        pending("b", "team-a", gpus(GpuRequest.whole(1).onModels(Set.of("H100"))))));

        assertThat(decisions.placementOf("a").orElseThrow().replicas().get(0).node()).isEqualTo("t4-node");
        assertThat(decisions.unplacedOf("b").orElseThrow().message()).endsWith("2 nodes have no allowed GPU");
    }

    @Test
    void gpuMemoryRequestsBecomeMilliOfTheGpuTheyLandOn()
    {
        Node small = Node.of("n16", 64_000, 262_144, 1, "V100", 16_384);
        Decisions decisions = schedule(List.of(small), ONE_PROJECT, List.of(), List.of(pending("a", "team-a", gpus(GpuRequest.memory(8_000)))));

        // 8000 / 16384 = 0.48828..., rounded up to whole milli
        assertThat(decisions.placementOf("a").orElseThrow().replicas().get(0).gpuMilli()).isEqualTo(Map.of(0, 489));
    }

    @Test
    void reasonsCountNodesPerFailedPredicate()
    {
        Node cpuPoor = new Node("cpu-poor", 500, 262_144, node("x", 1).gpus(), true);
        Node cordoned = new Node("cordoned", 64_000, 262_144, node("x", 1).gpus(), false);
        Decisions decisions = schedule(
                List.of(node("full-1", 1), node("full-2", 1), cpuPoor, cordoned),
                ONE_PROJECT,
                List.of(running("r1", "team-a", 0, false, 0, "full-1", 0), running("r2", "team-a", 0, false, 1, "full-2", 0)),
                List.of(pending("a", "team-a", gpus(GpuRequest.fraction(250)))));

        assertThat(decisions.unplacedOf("a").orElseThrow().message())
                .isEqualTo("no node fits 1 replica (0.25 GPU, 1.0 CPU, 1024 MiB): 1 node is not schedulable, 1 lacks CPU, 2 lack free GPU");
    }

    @Test
    void cpuOnlyWorkNeedsNoGpu()
    {
        Node cpuNode = new Node("cpu", 16_000, 65_536, List.of(), true);
        Decisions decisions = schedule(List.of(cpuNode), ONE_PROJECT, List.of(),
                List.of(pending("a", "team-a", new ResourceRequest(GpuRequest.none(), 8_000, 1_024))));

        assertThat(decisions.placementOf("a").orElseThrow().replicas().get(0)).isEqualTo(new ReplicaPlacement("cpu", Map.of(), 8_000, 1_024));
    }

    @Test
    void sameSnapshotSameDecisions()
    {
        List<PendingExperiment> pending = List.of(
                pending("a", "team-a", gpus(GpuRequest.fraction(300))),
                pending("b", "team-a", gpus(GpuRequest.whole(1))),
                pending("c", "team-a", 0, 2, gpus(GpuRequest.fraction(700))));
        List<RunningAllocation> running = List.of(runningFraction("r", "team-a", "n2", 0, 500));
        ClusterSnapshot snapshot = new ClusterSnapshot(List.of(node("n1", 4), node("n2", 4), node("n3", 4)), ONE_PROJECT, running, pending);

        assertThat(Fixtures.cycle("fgd").run(snapshot)).isEqualTo(Fixtures.cycle("fgd").run(snapshot));
    }

    @Test
    void aSnapshotThatOvercommitsIsRejectedByName()
    {
        List<RunningAllocation> running = List.of(runningFraction("r1", "team-a", "n1", 0, 700), runningFraction("r2", "team-a", "n1", 0, 400));

        org.assertj.core.api.Assertions.assertThatThrownBy(() -> schedule(List.of(node("n1", 1)), ONE_PROJECT, running, List.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("running experiment r2: GPU 0 of node n1 would be over-committed (free 300 milli, change 400)");
    }
}

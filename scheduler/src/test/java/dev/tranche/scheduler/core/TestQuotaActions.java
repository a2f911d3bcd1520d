package dev.tranche.scheduler.core;

import dev.tranche.scheduler.core.model.ClusterSnapshot;
import dev.tranche.scheduler.core.model.DepartmentQuota;
import dev.tranche.scheduler.core.model.GpuRequest;
import dev.tranche.scheduler.core.model.Node;
import dev.tranche.scheduler.core.model.PendingExperiment;
import dev.tranche.scheduler.core.model.ProjectQuota;
import dev.tranche.scheduler.core.model.ResourceRequest;
import dev.tranche.scheduler.core.model.RunningAllocation;
import dev.tranche.scheduler.core.model.ServiceHistory;
import dev.tranche.scheduler.core.placement.BestFitPolicy;
import dev.tranche.scheduler.core.placement.FgdPolicy;
import dev.tranche.scheduler.core.placement.PlacementPolicies;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

import static dev.tranche.scheduler.core.Fixtures.gpus;
import static dev.tranche.scheduler.core.Fixtures.node;
import static dev.tranche.scheduler.core.Fixtures.pending;
import static dev.tranche.scheduler.core.Fixtures.running;
import static dev.tranche.scheduler.core.Fixtures.schedule;
import static org.assertj.core.api.Assertions.assertThat;

/** Quotas, fair share, reclaim, priority preemption and anti-starvation on tiny clusters. */
class TestQuotaActions
{
    private static final ResourceRequest ONE_GPU = gpus(GpuRequest.whole(1));
    private static final ResourceRequest TWO_GPUS = gpus(GpuRequest.whole(2));

    @Test
    void inQuotaWorkGoesBeforeEarlierOverQuotaWork()
    {
        List<PendingExperiment> pending = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            pending.add(new PendingExperiment("a" + i, "team-a", 0, true, 1, ONE_GPU, i, 0));
        }
        pending.add(new PendingExperiment("b0", "team-b", 0, true, 1, ONE_GPU, 10, 0));
        pending.add(new PendingExperiment("b1", "team-b", 0, true, 1, ONE_GPU, 11, 0));

        Decisions decisions = schedule(List.of(node("n1", 4)), List.of(ProjectQuota.of("team-a", 2000), ProjectQuota.of("team-b", 2000)), List.of(), pending);

        assertThat(decisions.placements()).extracting(Placement::experimentId).containsExactlyInAnyOrder("a0", "a1", "b0", "b1");
        assertThat(decisions.unplacedOf("a2").orElseThrow().message())
                .isEqualTo("no node fits 1 replica (1 GPU, 1.0 CPU, 1024 MiB): 1 node lacks free GPU; project team-a is beyond its deserved 2.0 GPUs, so it only gets idle GPUs");
    }

    @Test
    void idleGpusGoToOverQuotaWorkByWeight()
    {
        List<PendingExperiment> pending = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            pending.add(new PendingExperiment("a" + i, "team-a", 0, true, 1, ONE_GPU, i, 0));
            pending.add(new PendingExperiment("b" + i, "team-b", 0, true, 1, ONE_GPU, 100 + i, 0));
        }
        List<ProjectQuota> quotas = List.of(ProjectQuota.of("team-a", 0).withWeight(2), ProjectQuota.of("team-b", 0).withWeight(1));

        Decisions decisions = schedule(List.of(node("n1", 6)), quotas, List.of(), pending);

        assertThat(decisions.placements().stream().filter(placement -> placement.experimentId().startsWith("a"))).hasSize(4);
        assertThat(decisions.placements().stream().filter(placement -> placement.experimentId().startsWith("b"))).hasSize(2);
    }

    @Test
    void noProjectGoesAboveItsLimit()
    {
        List<PendingExperiment> pending = List.of(pending("a0", "team-a", ONE_GPU), pending("a1", "team-a", ONE_GPU), pending("a2", "team-a", ONE_GPU));

        Decisions decisions = schedule(List.of(node("n1", 8)), List.of(ProjectQuota.of("team-a", 1000).withLimit(2000)), List.of(), pending);

        assertThat(decisions.placements()).hasSize(2);
        assertThat(decisions.summary()).isEqualTo("placed 2, preempting 0, pending 1 (PROJECT_LIMIT 1)");
        Unplaced unplaced = decisions.unplaced().get(0);
        assertThat(unplaced.reason()).isEqualTo(UnplacedReason.PROJECT_LIMIT);
        assertThat(unplaced.message()).isEqualTo("project team-a would exceed its limit of 2.0 GPUs (uses 2.0, asks 1.0)");
    }

    @Test
    void departmentLimitCoversItsProjects()
    {
        List<ProjectQuota> quotas = List.of(ProjectQuota.of("team-a", 1000).inDepartment("research"), ProjectQuota.of("team-b", 1000).inDepartment("research"));
        List<DepartmentQuota> departments = List.of(new DepartmentQuota("research", 2000, OptionalLong.of(3000)));
        List<PendingExperiment> pending = List.of(
                new PendingExperiment("a0", "team-a", 0, true, 1, TWO_GPUS, 0, 0),
                new PendingExperiment("b0", "team-b", 0, true, 1, TWO_GPUS, 1, 0));

        Decisions decisions = new SchedulingCycle(new FgdPolicy(), SchedulingOptions.defaults())
                .run(new ClusterSnapshot(List.of(node("n1", 8)), quotas, departments, List.of(), pending, List.of()));

        assertThat(decisions.placements()).hasSize(1);
        assertThat(decisions.unplaced().get(0).reason()).isEqualTo(UnplacedReason.DEPARTMENT_LIMIT);
        assertThat(decisions.unplaced().get(0).message()).startsWith("department research of project team-");
    }

    @Test
    void nonPreemptibleWorkStaysWithinDeserved()
    {
        PendingExperiment job = new PendingExperiment("a0", "team-a", 0, false, 1, TWO_GPUS, 0, 0);

        Decisions decisions = schedule(List.of(node("n1", 8)), List.of(ProjectQuota.of("team-a", 1000)), List.of(), List.of(job));

        assertThat(decisions.unplacedOf("a0").orElseThrow().reason()).isEqualTo(UnplacedReason.NON_PREEMPTIBLE_OVER_QUOTA);
        assertThat(decisions.unplacedOf("a0").orElseThrow().message())
                .isEqualTo("non-preemptible work runs only within the deserved GPUs of project team-a: deserved 1.0, uses 0.0, asks 2.0");
    }

    @Test
    void reclaimEvictsTheMostRecentBorrowersAndNoMore()
    {
        List<RunningAllocation> borrowed = List.of(
                running("b1", "team-b", 0, true, 1, "n1", 0),
                running("b2", "team-b", 0, true, 2, "n1", 1),
                running("b3", "team-b", 0, true, 3, "n1", 2),
                running("b4", "team-b", 0, true, 4, "n1", 3));
        List<ProjectQuota> quotas = List.of(ProjectQuota.of("team-a", 2000), ProjectQuota.of("team-b", 0));

        Decisions decisions = schedule(List.of(node("n1", 4)), quotas, borrowed, List.of(pending("a0", "team-a", TWO_GPUS)));

        assertThat(decisions.preemptions()).extracting(Preemption::victimId).containsExactlyInAnyOrder("b3", "b4");
        assertThat(decisions.preemptions()).allSatisfy(preemption -> {
            assertThat(preemption.kind()).isEqualTo(Preemption.Kind.RECLAIM);
            assertThat(preemption.forExperimentId()).isEqualTo("a0");
        });
        assertThat(decisions.preemptions().get(0).reason())
                .isEqualTo("project team-a reclaims GPUs within its deserved 2.0 for a0; project team-b uses 4.0 GPUs, beyond its deserved 0.0");
        Placement placement = decisions.placementOf("a0").orElseThrow();
        assertThat(placement.afterEvicting()).containsExactlyInAnyOrder("b3", "b4");
        assertThat(placement.replicas().get(0).gpuMilli().keySet()).containsExactlyInAnyOrder(2, 3);
    }

    @Test
    void reclaimPrefersLowPriorityVictims()
    {
        List<RunningAllocation> borrowed = List.of(
                running("low-old", "team-b", 0, true, 1, "n1", 0),
                running("high-new", "team-b", 5, true, 2, "n1", 1));

        Decisions decisions = schedule(List.of(node("n1", 2)), List.of(ProjectQuota.of("team-a", 1000)), borrowed, List.of(pending("a0", "team-a", ONE_GPU)));

        assertThat(decisions.preemptions()).extracting(Preemption::victimId).containsExactly("low-old");
    }

    @Test
    void inQuotaWorkIsNeverReclaimed()
    {
        List<RunningAllocation> running = List.of(
                running("b-first", "team-b", 0, true, 1, "n1", 0, 1),
                running("b-second", "team-b", 0, true, 2, "n1", 2, 3));
        List<ProjectQuota> quotas = List.of(ProjectQuota.of("team-a", 2000), ProjectQuota.of("team-b", 4000));

        Decisions decisions = schedule(List.of(node("n1", 4)), quotas, running, List.of(pending("a0", "team-a", TWO_GPUS)));

        assertThat(decisions.preemptions()).isEmpty();
        assertThat(decisions.unplacedOf("a0").orElseThrow().reason()).isEqualTo(UnplacedReason.NO_FIT);
    }

    @Test
    void nonPreemptibleWorkIsNeverReclaimedEvenBeyondDeserved()
    {
        // the quota shrank under it: still not a victim
        List<RunningAllocation> running = List.of(running("b-pinned", "team-b", 0, false, 1, "n1", 0, 1));
        List<ProjectQuota> quotas = List.of(ProjectQuota.of("team-a", 2000), ProjectQuota.of("team-b", 0));

        Decisions decisions = schedule(List.of(node("n1", 2)), quotas, running, List.of(pending("a0", "team-a", TWO_GPUS)));

        assertThat(decisions.preemptions()).isEmpty();
    }

    @Test
    void nonPreemptibleWorkTakesTheDeservedShareFirst()
    {
        // team-b deserves 2 GPUs; its pinned job holds them, so the preemptible one is the borrowed part
        List<RunningAllocation> running = List.of(
                running("b-preemptible", "team-b", 0, true, 1, "n1", 0, 1),
                running("b-pinned", "team-b", 0, false, 2, "n1", 2, 3));
        List<ProjectQuota> quotas = List.of(ProjectQuota.of("team-a", 2000), ProjectQuota.of("team-b", 2000));

        Decisions decisions = schedule(List.of(node("n1", 4)), quotas, running, List.of(pending("a0", "team-a", TWO_GPUS)));

        assertThat(decisions.preemptions()).extracting(Preemption::victimId).containsExactly("b-preemptible");
    }

    @Test
    void aProjectsDeservedShareCoversItsLeastServedWorkFirst()
    {
        // team-b deserves 2 GPUs and holds 4: a long run that has had 10 GPU-hours (started first) and a
        // fresh job; the guarantee covers the fresh one, so reclaim takes the long run, which
        // resumes from its checkpoint, rather than the job that has barely started
        List<RunningAllocation> running = List.of(
                running("b-long", "team-b", 0, true, 1, "n1", 0, 1),
                running("b-fresh", "team-b", 0, true, 2, "n1", 2, 3));
        List<ProjectQuota> quotas = List.of(ProjectQuota.of("team-a", 2000), ProjectQuota.of("team-b", 2000));
        ServiceHistory history = ServiceHistory.attained(Map.of("b-long", 36_000L, "b-fresh", 60L, "a0", 60L));
        ClusterSnapshot snapshot = new ClusterSnapshot(List.of(node("n1", 4)), quotas, List.of(), running, List.of(pending("a0", "team-a", TWO_GPUS)),
                List.of(), history);

        Decisions decisions = Fixtures.cycle(PlacementPolicies.DEFAULT).run(snapshot);

        assertThat(decisions.preemptions()).extracting(Preemption::victimId).containsExactly("b-long");
        assertThat(decisions.placements()).extracting(Placement::experimentId).containsExactly("a0");

        // with no service history the ranks tie, and the longest running is covered first, as before
        Decisions withoutHistory = schedule(List.of(node("n1", 4)), quotas, running, List.of(pending("a0", "team-a", TWO_GPUS)));
        assertThat(withoutHistory.preemptions()).extracting(Preemption::victimId).containsExactly("b-fresh");
    }

    @Test
    void overQuotaWorkDoesNotReclaim()
    {
        List<RunningAllocation> borrowed = List.of(running("b1", "team-b", 0, true, 1, "n1", 0, 1));

        Decisions decisions = schedule(List.of(node("n1", 2)), List.of(ProjectQuota.of("team-a", 1000)), borrowed, List.of(pending("a0", "team-a", TWO_GPUS)));

        assertThat(decisions.preemptions()).isEmpty();
        assertThat(decisions.placements()).isEmpty();
    }

    @Test
    void higherPriorityPreemptsLowerPriorityWorkOfItsOwnProject()
    {
        List<RunningAllocation> running = List.of(
                running("low", "team-a", 1, true, 1, "n1", 0, 1),
                running("other-project", "team-b", 0, true, 2, "n1", 2, 3));
        PendingExperiment urgent = new PendingExperiment("urgent", "team-a", 5, true, 1, TWO_GPUS, 3, 0);

        Decisions decisions = schedule(List.of(node("n1", 4)), List.of(ProjectQuota.of("team-a", 0), ProjectQuota.of("team-b", 0)), running, List.of(urgent));

        assertThat(decisions.preemptions()).containsExactly(new Preemption("low", "urgent", Preemption.Kind.PRIORITY,
                "preempted by higher-priority urgent (priority 5 > 1) of project team-a"));
        assertThat(decisions.placementOf("urgent").orElseThrow().afterEvicting()).containsExactly("low");
    }

    @Test
    void equalPriorityDoesNotPreempt()
    {
        List<RunningAllocation> running = List.of(running("same", "team-a", 5, true, 1, "n1", 0, 1));
        PendingExperiment job = new PendingExperiment("job", "team-a", 5, true, 1, TWO_GPUS, 3, 0);

        Decisions decisions = schedule(List.of(node("n1", 2)), List.of(ProjectQuota.of("team-a", 0)), running, List.of(job));

        assertThat(decisions.preemptions()).isEmpty();
    }

    /**
     * A starving gang holds the nodes closest to taking it (most free GPUs first), not its whole
     * project: work behind it goes on elsewhere but not there, so what frees up there stays free for it.
     */
    @Test
    void aStarvingBigJobHoldsNodesWhileLaterWorkGoesElsewhere()
    {
        List<Node> nodes = List.of(node("n1", 4), node("n2", 4));
        List<RunningAllocation> running = List.of(
                running("r1", "team-b", 0, false, 1, "n1", 0),
                running("r2", "team-b", 0, false, 2, "n2", 0, 1));
        List<ProjectQuota> quotas = List.of(ProjectQuota.of("team-a", 0), ProjectQuota.of("team-b", 3000));
        ResourceRequest fourGpus = gpus(GpuRequest.whole(4));
        PendingExperiment big = new PendingExperiment("big", "team-a", 0, true, 1, fourGpus, 1, 500);
        List<PendingExperiment> small = List.of(
                new PendingExperiment("small-1", "team-a", 0, true, 1, ONE_GPU, 2, 0),
                new PendingExperiment("small-2", "team-a", 0, true, 1, ONE_GPU, 3, 0),
                new PendingExperiment("small-3", "team-a", 0, true, 1, ONE_GPU, 4, 0));
        List<PendingExperiment> pending = new java.util.ArrayList<>(small);
        pending.add(0, big);

        Decisions starving = schedule(nodes, quotas, running, pending);
        // n1 (3 free) is held for big; n2's 2 free GPUs take two of the small jobs
        assertThat(starving.placements()).extracting(Placement::experimentId).containsExactly("small-1", "small-2");
        assertThat(starving.placements()).allSatisfy(placement -> assertThat(placement.replicas().get(0).node()).isEqualTo("n2"));
        assertThat(starving.unplacedOf("small-3").orElseThrow().reason()).isEqualTo(UnplacedReason.NO_FIT);
        assertThat(starving.unplacedOf("small-3").orElseThrow().message()).contains("1 node is held for a starving gang");

        PendingExperiment young = new PendingExperiment("big", "team-a", 0, true, 1, fourGpus, 1, 5);
        pending.set(0, young);
        Decisions backfilled = schedule(nodes, quotas, running, pending);
        assertThat(backfilled.placements()).extracting(Placement::experimentId).containsExactlyInAnyOrder("small-1", "small-2", "small-3");
    }

    /**
     * Of the nodes that could take a starving gang, it holds the one expected to free room soonest: a
     * run that has gone ten hours is likely to go on, a run of five minutes may end any time, even
     * though the node of the long run has more GPUs free now.
     */
    @Test
    void aStarvingGangHoldsTheNodeExpectedToDrainFirst()
    {
        List<Node> nodes = List.of(node("n1", 4), node("n2", 4));
        List<RunningAllocation> running = List.of(
                running("long-run", "team-b", 0, false, 1, "n1", 0),
                running("fresh-pair", "team-b", 0, false, 2, "n2", 0, 1));
        List<ProjectQuota> quotas = List.of(ProjectQuota.of("team-a", 0), ProjectQuota.of("team-b", 3000));
        PendingExperiment big = new PendingExperiment("big", "team-a", 0, true, 1, gpus(GpuRequest.whole(4)), 1, 500);
        List<PendingExperiment> pending = List.of(big,
                new PendingExperiment("small-1", "team-a", 0, true, 1, ONE_GPU, 2, 0),
                new PendingExperiment("small-2", "team-a", 0, true, 1, ONE_GPU, 3, 0));
        // GPU-seconds: ten hours on one GPU, five minutes on two
        ServiceHistory history = ServiceHistory.attained(Map.of("long-run", 36_000L, "fresh-pair", 600L));
        ClusterSnapshot snapshot = new ClusterSnapshot(nodes, quotas, List.of(), running, pending, List.of(), history);

        Decisions decisions = Fixtures.cycle(PlacementPolicies.DEFAULT).run(snapshot);

        // n2 is held: the small jobs take n1's free GPUs, beside the long run
        assertThat(decisions.placements()).extracting(Placement::experimentId).containsExactly("small-1", "small-2");
        assertThat(decisions.placements()).allSatisfy(placement -> assertThat(placement.replicas().get(0).node()).isEqualTo("n1"));
    }

    @Test
    void higherPriorityGoesFirstWithinAProject()
    {
        PendingExperiment early = new PendingExperiment("early", "team-a", 0, true, 1, TWO_GPUS, 1, 0);
        PendingExperiment urgent = new PendingExperiment("urgent", "team-a", 9, true, 1, TWO_GPUS, 2, 0);

        Decisions decisions = schedule(List.of(node("n1", 2)), List.of(ProjectQuota.of("team-a", 2000)), List.of(), List.of(early, urgent));

        assertThat(decisions.placements()).extracting(Placement::experimentId).containsExactly("urgent");
    }

    @Test
    void configuredActionsRunInOrder()
    {
        // the production ordering preempts by rank: a no-op until the caller passes service history
        assertThat(Fixtures.cycle("fgd").actionNames()).containsExactly("allocate", "reclaim", "preempt", "preempt-by-rank");
        assertThat(new SchedulingCycle(new BestFitPolicy(), new SchedulingOptions(1, 10, false, false)).actionNames())
                .containsExactly("allocate", "preempt-by-rank");
        assertThat(new SchedulingCycle(new BestFitPolicy(), new SchedulingOptions(1, 10, false, false), Ordering.byName("fifo")).actionNames())
                .containsExactly("allocate");
    }

    @Test
    void idleGpusAreSharedBetweenDepartmentsFirst()
    {
        List<ProjectQuota> quotas = List.of(
                ProjectQuota.of("vision-1", 0).inDepartment("vision"),
                ProjectQuota.of("vision-2", 0).inDepartment("vision"),
                ProjectQuota.of("speech", 0).inDepartment("audio"));
        List<DepartmentQuota> departments = List.of(new DepartmentQuota("vision", 0, OptionalLong.empty()), new DepartmentQuota("audio", 0, OptionalLong.empty()));
        List<PendingExperiment> pending = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            for (String project : List.of("vision-1", "vision-2", "speech")) {
                pending.add(new PendingExperiment(project + "-" + i, project, 0, true, 1, ONE_GPU, pending.size(), 0));
            }
        }

        Decisions decisions = new SchedulingCycle(new FgdPolicy(), SchedulingOptions.defaults())
                .run(new ClusterSnapshot(List.of(node("n1", 6)), quotas, departments, List.of(), pending, List.of()));

        // per project it would be 2/2/2; per department it is 3 for vision (split 2/1) and 3 for audio
        assertThat(decisions.placements().stream().filter(placement -> placement.experimentId().startsWith("speech"))).hasSize(3);
        assertThat(decisions.placements().stream().filter(placement -> placement.experimentId().startsWith("vision"))).hasSize(3);
    }
}

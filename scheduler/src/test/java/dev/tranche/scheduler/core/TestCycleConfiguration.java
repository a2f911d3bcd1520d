package dev.tranche.scheduler.core;

import dev.tranche.scheduler.core.model.ClusterSnapshot;
import dev.tranche.scheduler.core.model.GpuRequest;
import dev.tranche.scheduler.core.model.ProjectQuota;
import dev.tranche.scheduler.core.model.RunningAllocation;
import dev.tranche.scheduler.core.placement.BestFitPolicy;
import dev.tranche.scheduler.core.placement.PlacementPolicies;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static dev.tranche.scheduler.core.CycleConfiguration.ALLOCATE;
import static dev.tranche.scheduler.core.CycleConfiguration.PREEMPT;
import static dev.tranche.scheduler.core.CycleConfiguration.PREEMPT_BY_RANK;
import static dev.tranche.scheduler.core.CycleConfiguration.RECLAIM;
import static dev.tranche.scheduler.core.Fixtures.gpus;
import static dev.tranche.scheduler.core.Fixtures.node;
import static dev.tranche.scheduler.core.Fixtures.pending;
import static dev.tranche.scheduler.core.Fixtures.running;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A cycle is built from a validated configuration; the default one is the cycle as it always was. */
class TestCycleConfiguration
{
    private static final SchedulingOptions OPTIONS = SchedulingOptions.defaults();

    @Test
    void theDefaultsAreTodaysActionsAndFilters()
    {
        CycleConfiguration configuration = new SchedulingCycle(new BestFitPolicy(), OPTIONS).configuration();

        assertThat(configuration.actions()).containsExactly(ALLOCATE, RECLAIM, PREEMPT, PREEMPT_BY_RANK);
        assertThat(configuration.ordering().name()).isEqualTo("tranche");
        assertThat(configuration.options()).isEqualTo(OPTIONS);
        assertThat(configuration.victimFilterNames(RECLAIM)).containsExactly("other-projects");
        assertThat(configuration.victimFilterNames(PREEMPT)).containsExactly("same-project", "lower-priority");
        assertThat(configuration.victimFilterNames(PREEMPT_BY_RANK)).containsExactly("ranks-after", "no-higher-priority");
        assertThat(configuration.victimFilterNames(ALLOCATE)).isEmpty();
        assertThat(CycleConfiguration.defaults(new BestFitPolicy(), new SchedulingOptions(1, 10, false, false), Ordering.byName("fifo")).actions())
                .containsExactly(ALLOCATE);
    }

    @Test
    void actionsRunInTheConfiguredOrder()
    {
        CycleConfiguration reordered = CycleConfiguration.defaults(new BestFitPolicy(), OPTIONS, Ordering.production())
                .withActions(List.of(ALLOCATE, PREEMPT_BY_RANK, PREEMPT, RECLAIM));

        assertThat(new SchedulingCycle(reordered).actionNames()).containsExactly(ALLOCATE, PREEMPT_BY_RANK, PREEMPT, RECLAIM);
        assertThat(reordered.victimFilterNames(PREEMPT)).containsExactly("same-project", "lower-priority");
    }

    @Test
    void reclaimAsksItsConfiguredFilters()
    {
        // team-b borrows the whole node at priority 1; team-a's in-quota work at priority 0 waits
        List<RunningAllocation> borrowed = List.of(running("b1", "team-b", 1, true, 1, "n1", 0), running("b2", "team-b", 1, true, 2, "n1", 1));
        ClusterSnapshot snapshot = new ClusterSnapshot(List.of(node("n1", 2)), List.of(ProjectQuota.of("team-a", 1000), ProjectQuota.of("team-b", 0)),
                borrowed, List.of(pending("a0", "team-a", gpus(GpuRequest.whole(1)))));
        CycleConfiguration defaults = CycleConfiguration.defaults(new BestFitPolicy(), OPTIONS, Ordering.production());

        assertThat(new SchedulingCycle(defaults).run(snapshot).preemptions()).extracting(Preemption::victimId).containsExactly("b2");
        CycleConfiguration onlyLowerPriority = defaults.withVictimFilters(RECLAIM, List.of(VictimFilters.OTHER_PROJECTS, VictimFilters.LOWER_PRIORITY));
        assertThat(new SchedulingCycle(onlyLowerPriority).run(snapshot).preemptions()).isEmpty();
    }

    @Test
    void preemptionAcrossProjectsStillHoldsThePreemptorsLimit()
    {
        // team-a is at its limit of one GPU; its high-priority a2 waits; team-b's low-priority work borrows the other GPU
        List<RunningAllocation> held = List.of(running("a1", "team-a", 5, true, 1, "n1", 0), running("b1", "team-b", 0, true, 2, "n1", 1));
        ClusterSnapshot snapshot = new ClusterSnapshot(List.of(node("n1", 2)), List.of(ProjectQuota.of("team-a", 0).withLimit(1000), ProjectQuota.of("team-b", 0)),
                held, List.of(pending("a2", "team-a", 5, 1, gpus(GpuRequest.whole(1)))));
        CycleConfiguration acrossProjects = CycleConfiguration.defaults(new BestFitPolicy(), OPTIONS, Ordering.production())
                .withVictimFilters(PREEMPT, List.of(VictimFilters.OTHER_PROJECTS, VictimFilters.LOWER_PRIORITY));

        // evicting team-b's work frees none of team-a's quota: a2 would take team-a to two GPUs
        Decisions decisions = new SchedulingCycle(acrossProjects).run(snapshot);
        assertThat(decisions.preemptions()).isEmpty();
        assertThat(decisions.placements()).isEmpty();
    }

    @Property(tries = 200)
    void aConfigurationByNamesDecidesAsTheDefaultCycle(@ForAll long seed, @ForAll @IntRange(min = 1, max = 6) int nodeCount, @ForAll @IntRange(min = 1, max = 14) int pendingCount,
            @ForAll @IntRange(min = 0, max = 7) int policyIndex, @ForAll @IntRange(min = 0, max = 3) int orderingIndex)
    {
        String policy = PlacementPolicies.names().get(policyIndex);
        String ordering = Ordering.names().get(orderingIndex);
        ClusterSnapshot snapshot = TestSchedulingProperties.Scenario.generate(new SplittableRandom(seed), nodeCount, pendingCount, policy).snapshot();
        SchedulingOptions options = SchedulingOptions.defaults().withSeed(seed).withStarvationAge(50);
        List<String> actions = Ordering.byName(ordering).preemptByRank() ? List.of(ALLOCATE, RECLAIM, PREEMPT, PREEMPT_BY_RANK) : List.of(ALLOCATE, RECLAIM, PREEMPT);
        CycleConfiguration named = CycleConfiguration.of(actions,
                Map.of(RECLAIM, List.of("other-projects"), PREEMPT, List.of("same-project", "lower-priority")), ordering, policy, options);

        Decisions configured = new SchedulingCycle(named).run(snapshot);

        assertThat(configured).isEqualTo(new SchedulingCycle(PlacementPolicies.byName(policy), options, Ordering.byName(ordering)).run(snapshot));
    }

    @Test
    void unknownNamesListTheKnownOnes()
    {
        assertThatThrownBy(() -> CycleConfiguration.of(List.of(ALLOCATE, "backfill"), Map.of(), "tranche", "fgd", OPTIONS))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("unknown action \"backfill\"; known: allocate, reclaim, preempt, preempt-by-rank");
        assertThatThrownBy(() -> CycleConfiguration.of(List.of(ALLOCATE, RECLAIM, PREEMPT, PREEMPT_BY_RANK), Map.of(RECLAIM, List.of("oldest")), "tranche", "fgd", OPTIONS))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("unknown victim filter \"oldest\"; known: other-projects, same-project, lower-priority, no-higher-priority, ranks-after");
        assertThatThrownBy(() -> CycleConfiguration.of(List.of(ALLOCATE), Map.of(), "lifo", "fgd", new SchedulingOptions(1, 10, false, false)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("unknown ordering \"lifo\"; known: fifo, las, sjf-oracle, tranche");
        assertThatThrownBy(() -> CycleConfiguration.of(List.of(ALLOCATE), Map.of(), "fifo", "worst-fit", new SchedulingOptions(1, 10, false, false)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("unknown placement policy 'worst-fit'; known: fgd, ");
        assertThatThrownBy(() -> CycleConfiguration.of(List.of(ALLOCATE, RECLAIM, PREEMPT, PREEMPT_BY_RANK), Map.of("backfill", List.of()), "tranche", "fgd", OPTIONS))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("victim filters for unknown action \"backfill\"; known: allocate, reclaim, preempt, preempt-by-rank");
    }

    @Test
    void theActionsMustHold()
    {
        CycleConfiguration defaults = CycleConfiguration.defaults(new BestFitPolicy(), OPTIONS, Ordering.production());

        assertThatThrownBy(() -> defaults.withActions(List.of(RECLAIM, ALLOCATE, PREEMPT, PREEMPT_BY_RANK)))
                .hasMessage("the first action must be allocate (the others act on what it could not place); got [reclaim, allocate, preempt, preempt-by-rank]");
        assertThatThrownBy(() -> defaults.withActions(List.of()))
                .hasMessage("the first action must be allocate (the others act on what it could not place); got []");
        assertThatThrownBy(() -> defaults.withActions(List.of(ALLOCATE, RECLAIM, RECLAIM, PREEMPT, PREEMPT_BY_RANK)))
                .hasMessage("action reclaim is listed twice");
        assertThatThrownBy(() -> defaults.withActions(List.of(ALLOCATE, PREEMPT, PREEMPT_BY_RANK)))
                .hasMessage("the options turn reclaim on but the actions do not list reclaim");
        assertThatThrownBy(() -> CycleConfiguration.defaults(new BestFitPolicy(), new SchedulingOptions(1, 10, true, false), Ordering.byName("fifo"))
                .withActions(List.of(ALLOCATE, RECLAIM, PREEMPT)))
                .hasMessage("the options turn preempt off but the actions list preempt");
        assertThatThrownBy(() -> defaults.withActions(List.of(ALLOCATE, RECLAIM, PREEMPT)))
                .hasMessage("ordering tranche preempts by rank but the actions do not list preempt-by-rank");
    }

    @Test
    void victimFiltersBelongToListedActionsThatEvict()
    {
        CycleConfiguration defaults = CycleConfiguration.defaults(new BestFitPolicy(), OPTIONS, Ordering.production());
        CycleConfiguration fifo = CycleConfiguration.defaults(new BestFitPolicy(), new SchedulingOptions(1, 10, false, false), Ordering.byName("fifo"));

        assertThatThrownBy(() -> defaults.withVictimFilters(ALLOCATE, List.of(VictimFilters.SAME_PROJECT)))
                .hasMessage("action allocate evicts nothing and takes no victim filters");
        assertThatThrownBy(() -> fifo.withVictimFilters(RECLAIM, List.of(VictimFilters.OTHER_PROJECTS)))
                .hasMessage("victim filters for reclaim, which the actions do not list");
        assertThatThrownBy(() -> new CycleConfiguration(defaults.actions(), Map.of(), defaults.ordering(), defaults.policy(), OPTIONS))
                .hasMessage("action reclaim evicts and needs its victim filters (by default: other-projects)");
        // an empty list is a choice: every borrowable allocation is a candidate
        assertThat(defaults.withVictimFilters(PREEMPT, List.of()).victimFilterNames(PREEMPT)).isEmpty();
    }

    @Test
    void everyOrderingRunsACycleWithNothingPending()
    {
        // single-queue orderings used to put an empty queue in line and fail on it (NullPointerException)
        ClusterSnapshot snapshot = new ClusterSnapshot(List.of(Fixtures.node("n1", 2)), Fixtures.quotas(),
                List.of(Fixtures.running("r1", "vision", 50, true, 1, "n1", 0)), List.of());
        for (String ordering : Ordering.names()) {
            Decisions decisions = new SchedulingCycle(PlacementPolicies.byName(PlacementPolicies.DEFAULT), SchedulingOptions.defaults(), Ordering.byName(ordering))
                    .run(snapshot);
            assertThat(decisions.placements()).as(ordering).isEmpty();
            assertThat(decisions.preemptions()).as(ordering).isEmpty();
        }
    }
}

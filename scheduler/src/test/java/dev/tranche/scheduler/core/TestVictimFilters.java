package dev.tranche.scheduler.core;

import dev.tranche.scheduler.core.model.GpuRequest;
import dev.tranche.scheduler.core.model.PendingExperiment;
import dev.tranche.scheduler.core.model.RunningAllocation;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static dev.tranche.scheduler.core.Fixtures.gpus;
import static dev.tranche.scheduler.core.Fixtures.running;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Each named victim filter's rule, and what of the preemptor it reads. */
class TestVictimFilters
{
    private static final PendingExperiment PREEMPTOR = new PendingExperiment("waiting", "team-a", 5, true, 1, gpus(GpuRequest.whole(1)), 1, 0);
    // ranks as the ordering would give them: the preemptor 2, the running work by id
    private static final VictimFilter.SessionView RANKS = new VictimFilter.SessionView()
    {
        private final Map<String, Long> running = Map.of("served-less", 1L, "served-as-much", 2L, "served-more", 3L);

        @Override
        public long rank(PendingExperiment job)
        {
            return 2;
        }

        @Override
        public long rank(RunningAllocation allocation)
        {
            return running.get(allocation.experimentId());
        }
    };

    @Test
    void otherProjectsAdmitsOnlyOtherProjectsWork()
    {
        assertThat(admits(VictimFilters.OTHER_PROJECTS, running("served-more", "team-b", 0, true, 0, "n1", 0))).isTrue();
        assertThat(admits(VictimFilters.OTHER_PROJECTS, running("served-more", "team-a", 0, true, 0, "n1", 0))).isFalse();
        assertThat(VictimFilters.OTHER_PROJECTS.preemptorKey(RANKS, PREEMPTOR)).isEqualTo("team-a");
    }

    @Test
    void sameProjectAdmitsOnlyThePreemptorsProject()
    {
        assertThat(admits(VictimFilters.SAME_PROJECT, running("served-more", "team-a", 0, true, 0, "n1", 0))).isTrue();
        assertThat(admits(VictimFilters.SAME_PROJECT, running("served-more", "team-b", 0, true, 0, "n1", 0))).isFalse();
        assertThat(VictimFilters.SAME_PROJECT.preemptorKey(RANKS, PREEMPTOR)).isEqualTo("team-a");
    }

    @Test
    void lowerPriorityAdmitsOnlyStrictlyLowerPriority()
    {
        assertThat(admits(VictimFilters.LOWER_PRIORITY, running("served-more", "team-a", 4, true, 0, "n1", 0))).isTrue();
        assertThat(admits(VictimFilters.LOWER_PRIORITY, running("served-more", "team-a", 5, true, 0, "n1", 0))).isFalse();
        assertThat(VictimFilters.LOWER_PRIORITY.preemptorKey(RANKS, PREEMPTOR)).isEqualTo(5);
    }

    @Test
    void noHigherPriorityAdmitsEqualPriority()
    {
        assertThat(admits(VictimFilters.NO_HIGHER_PRIORITY, running("served-more", "team-a", 5, true, 0, "n1", 0))).isTrue();
        assertThat(admits(VictimFilters.NO_HIGHER_PRIORITY, running("served-more", "team-a", 6, true, 0, "n1", 0))).isFalse();
        assertThat(VictimFilters.NO_HIGHER_PRIORITY.preemptorKey(RANKS, PREEMPTOR)).isEqualTo(5);
    }

    @Test
    void ranksAfterAdmitsOnlyWorkThatRanksStrictlyAfterThePreemptor()
    {
        assertThat(admits(VictimFilters.RANKS_AFTER, running("served-more", "team-b", 0, true, 0, "n1", 0))).isTrue();
        assertThat(admits(VictimFilters.RANKS_AFTER, running("served-as-much", "team-b", 0, true, 0, "n1", 0))).isFalse();
        assertThat(admits(VictimFilters.RANKS_AFTER, running("served-less", "team-b", 0, true, 0, "n1", 0))).isFalse();
        assertThat(VictimFilters.RANKS_AFTER.preemptorKey(RANKS, PREEMPTOR)).isEqualTo(2L);
    }

    @Test
    void filtersAreFoundByName()
    {
        assertThat(VictimFilters.names()).containsExactly("other-projects", "same-project", "lower-priority", "no-higher-priority", "ranks-after");
        for (String name : VictimFilters.names()) {
            assertThat(VictimFilters.byName(name).name()).isEqualTo(name);
        }
        assertThat(VictimFilters.byName("Same-Project")).isSameAs(VictimFilters.SAME_PROJECT);
        assertThatThrownBy(() -> VictimFilters.byName("youngest"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("unknown victim filter \"youngest\"; known: other-projects, same-project, lower-priority, no-higher-priority, ranks-after");
    }

    private static boolean admits(VictimFilter filter, RunningAllocation candidate)
    {
        return filter.admits(RANKS, PREEMPTOR, candidate);
    }
}

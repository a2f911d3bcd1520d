package dev.tranche.scheduler.core;

import dev.tranche.scheduler.core.model.PendingExperiment;
import dev.tranche.scheduler.core.model.RunningAllocation;

import java.util.List;
import java.util.Locale;
import java.util.function.BiFunction;

import static java.util.Objects.requireNonNull;

/** The named {@link VictimFilter}s. */
public final class VictimFilters
{
    /** Work of other projects: reclaim takes back what others borrowed. */
    public static final VictimFilter OTHER_PROJECTS = new Rule("other-projects",
            (session, preemptor, candidate) -> !candidate.project().equals(preemptor.project()),
            (session, preemptor) -> preemptor.project());
    /** Work of the preemptor's own project. */
    public static final VictimFilter SAME_PROJECT = new Rule("same-project",
            (session, preemptor, candidate) -> candidate.project().equals(preemptor.project()),
            (session, preemptor) -> preemptor.project());
    /** Work of strictly lower priority than the preemptor's. */
    public static final VictimFilter LOWER_PRIORITY = new Rule("lower-priority",
            (session, preemptor, candidate) -> candidate.priority() < preemptor.priority(),
            (session, preemptor) -> preemptor.priority());
    /** Work of no higher priority than the preemptor's. */
    public static final VictimFilter NO_HIGHER_PRIORITY = new Rule("no-higher-priority",
            (session, preemptor, candidate) -> candidate.priority() <= preemptor.priority(),
            (session, preemptor) -> preemptor.priority());
    /** Work that ranks strictly after the preemptor in the ordering: under least attained service, work that has had more. */
    public static final VictimFilter RANKS_AFTER = new Rule("ranks-after",
            (session, preemptor, candidate) -> session.rank(candidate) > session.rank(preemptor),
            (session, preemptor) -> session.rank(preemptor));

    private static final List<VictimFilter> ALL = List.of(OTHER_PROJECTS, SAME_PROJECT, LOWER_PRIORITY, NO_HIGHER_PRIORITY, RANKS_AFTER);

    private VictimFilters() {}

    public static List<String> names()
    {
        return ALL.stream().map(VictimFilter::name).toList();
    }

    /** @throws IllegalArgumentException for an unknown name; the message lists the known ones */
    public static VictimFilter byName(String name)
    {
        requireNonNull(name, "name is null");
        String wanted = name.toLowerCase(Locale.ROOT);
        return ALL.stream()
                .filter(filter -> filter.name().equals(wanted))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown victim filter \"" + name + "\"; known: " + String.join(", ", names())));
    }

    private interface Admits
    {
        boolean test(VictimFilter.SessionView session, PendingExperiment preemptor, RunningAllocation candidate);
    }

    private record Rule(String name, Admits rule, BiFunction<VictimFilter.SessionView, PendingExperiment, Object> reads)
            implements VictimFilter
    {
        @Override
        public boolean admits(SessionView session, PendingExperiment preemptor, RunningAllocation candidate)
        {
            return rule.test(session, preemptor, candidate);
        }

        @Override
        public Object preemptorKey(SessionView session, PendingExperiment preemptor)
        {
            return reads.apply(session, preemptor);
        }

        @Override
        public String toString()
        {
            return name;
        }
    }
}

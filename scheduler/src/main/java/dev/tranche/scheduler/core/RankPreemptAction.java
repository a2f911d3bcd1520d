package dev.tranche.scheduler.core;

import dev.tranche.scheduler.core.model.RunningAllocation;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Preemption by rank (Tiresias-style least attained service): a waiting experiment that found no room
 * may evict borrowable work its victim filters admit (by default {@code ranks-after} and
 * {@code no-higher-priority}: rank strictly higher, that is more service, and priority not higher),
 * worst-ranked first, as few as make the gang fit. Only work that reclaim may take is a candidate
 * (preemptible and beyond its project's deserved share); limits still hold.
 */
final class RankPreemptAction
        implements Action
{
    static final String NAME = "preempt-by-rank";

    private final List<VictimFilter> filters;

    RankPreemptAction(List<VictimFilter> filters)
    {
        this.filters = List.copyOf(filters);
    }

    @Override
    public String name()
    {
        return NAME;
    }

    @Override
    public void execute(Session session)
    {
        EvictingPlacement.run(session, filters, each -> mostServedFirst(each, each.borrowable()), Preemption.Kind.RANK, (job, victim) -> String.format(
                "preempted by %s of project %s, which has had less GPU service (rank %d < %d)",
                job.id(), job.project(), session.rank(job), session.rank(victim)));
    }

    /** The most served first; among equals the cheapest to lose (reclaim's victim order). Each rank is read once. */
    private static List<RunningAllocation> mostServedFirst(Session session, List<RunningAllocation> borrowable)
    {
        record Ranked(RunningAllocation allocation, long rank) {}
        Ranked[] ranked = new Ranked[borrowable.size()];
        for (int i = 0; i < ranked.length; i++) {
            ranked[i] = new Ranked(borrowable.get(i), session.rank(borrowable.get(i)));
        }
        Arrays.sort(ranked, (left, right) -> left.rank() != right.rank()
                ? Long.compare(right.rank(), left.rank())
                : ReclaimAction.VICTIM_ORDER.compare(left.allocation(), right.allocation()));
        List<RunningAllocation> pool = new ArrayList<>(ranked.length);
        for (Ranked entry : ranked) {
            pool.add(entry.allocation());
        }
        return pool;
    }
}

package dev.tranche.scheduler.core;

import java.util.List;

/**
 * Work that did not fit may evict borrowable work its victim filters admit (by default
 * {@code same-project} and {@code lower-priority}: within a project, higher-priority work takes the
 * place of lower-priority, preemptible work that runs beyond the deserved share). Quota limits still
 * hold.
 */
final class PreemptAction
        implements Action
{
    static final String NAME = "preempt";

    private final List<VictimFilter> filters;

    PreemptAction(List<VictimFilter> filters)
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
        EvictingPlacement.run(session, filters, Session::borrowable, Preemption.Kind.PRIORITY, (job, victim) -> String.format(
                "preempted by higher-priority %s (priority %d > %d) of project %s", job.id(), job.priority(), victim.priority(), job.project()));
    }
}

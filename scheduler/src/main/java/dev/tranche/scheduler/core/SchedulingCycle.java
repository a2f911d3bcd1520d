package dev.tranche.scheduler.core;

import dev.tranche.scheduler.core.model.ClusterSnapshot;
import dev.tranche.scheduler.core.placement.PlacementPolicy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static java.util.Objects.requireNonNull;

/**
 * One pass of the scheduler over a snapshot: allocate, then reclaim, then preempt, each over the
 * same session, and the decisions with a reason for every experiment left pending. Pure: no clock,
 * no I/O, no threads; the same snapshot and options give the same decisions.
 */
public final class SchedulingCycle
{
    private final PlacementPolicy policy;
    private final SchedulingOptions options;
    private final Ordering ordering;
    private final List<Action> actions;
    /**
     * Handed from one run to the next: the empty cluster and the running work already resolved to node
     * and GPU positions (see {@link CycleMemo}). It changes no decision, only the cost of loading a
     * snapshot. A run takes it out while it works, so two overlapping runs never share one (the
     * second simply starts without); a run that throws drops it.
     */
    private final AtomicReference<CycleMemo> memo = new AtomicReference<>();

    /** The production cycle: {@link Ordering#production()}. */
    public SchedulingCycle(PlacementPolicy policy, SchedulingOptions options)
    {
        this(policy, options, Ordering.production());
    }

    public SchedulingCycle(PlacementPolicy policy, SchedulingOptions options, Ordering ordering)
    {
        this.policy = requireNonNull(policy, "policy is null");
        this.options = requireNonNull(options, "options is null");
        this.ordering = requireNonNull(ordering, "ordering is null");
        List<Action> configured = new ArrayList<>();
        configured.add(new AllocateAction());
        if (options.reclaim()) {
            configured.add(new ReclaimAction(List.of(VictimFilters.OTHER_PROJECTS)));
        }
        if (options.preempt()) {
            configured.add(new PreemptAction(List.of(VictimFilters.SAME_PROJECT, VictimFilters.LOWER_PRIORITY)));
        }
        if (ordering.preemptByRank()) {
            configured.add(new RankPreemptAction(List.of(VictimFilters.RANKS_AFTER, VictimFilters.NO_HIGHER_PRIORITY)));
        }
        this.actions = List.copyOf(configured);
    }

    public PlacementPolicy policy()
    {
        return policy;
    }

    public SchedulingOptions options()
    {
        return options;
    }

    public Ordering ordering()
    {
        return ordering;
    }

    /** Names of the actions this cycle runs, in order. */
    public List<String> actionNames()
    {
        return actions.stream().map(Action::name).toList();
    }

    /**
     * @throws IllegalArgumentException when the snapshot contradicts itself, e.g. running work on an
     *         unknown node or more than a GPU's 1000 milli
     */
    public Decisions run(ClusterSnapshot snapshot)
    {
        requireNonNull(snapshot, "snapshot is null");
        CycleMemo taken = memo.getAndSet(null);
        if (taken == null) {
            taken = new CycleMemo();
        }
        Session session = new Session(snapshot, options, policy, ordering, taken);
        for (Action action : actions) {
            action.execute(session);
        }
        Decisions decisions = session.decisions();
        taken.remember(decisions, session.state());
        memo.set(taken);
        return decisions;
    }
}

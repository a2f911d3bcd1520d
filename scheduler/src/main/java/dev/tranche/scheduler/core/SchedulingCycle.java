package dev.tranche.scheduler.core;

import dev.tranche.scheduler.core.model.ClusterSnapshot;
import dev.tranche.scheduler.core.placement.PlacementPolicy;

import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static java.util.Objects.requireNonNull;

/**
 * One pass of the scheduler over a snapshot: the configured actions (by default allocate, then
 * reclaim, then preempt, then preemption by rank), each over the same session, and the decisions with
 * a reason for every experiment left pending. Built from a {@link CycleConfiguration}. Pure: no clock,
 * no I/O, no threads; the same snapshot and configuration give the same decisions.
 */
public final class SchedulingCycle
{
    private final CycleConfiguration configuration;
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

    /** {@link CycleConfiguration#defaults}: the actions the options and the ordering turn on, with their default filters. */
    public SchedulingCycle(PlacementPolicy policy, SchedulingOptions options, Ordering ordering)
    {
        this(CycleConfiguration.defaults(policy, options, ordering));
    }

    public SchedulingCycle(CycleConfiguration configuration)
    {
        this.configuration = requireNonNull(configuration, "configuration is null");
        this.actions = configuration.actions().stream().map(name -> action(name, configuration)).toList();
    }

    private static Action action(String name, CycleConfiguration configuration)
    {
        List<VictimFilter> filters = configuration.victimFilters().getOrDefault(name, List.of());
        return switch (name) {
            case AllocateAction.NAME -> new AllocateAction();
            case ReclaimAction.NAME -> new ReclaimAction(filters);
            case PreemptAction.NAME -> new PreemptAction(filters);
            case RankPreemptAction.NAME -> new RankPreemptAction(filters);
            // the configuration admits only the names above
            default -> throw new IllegalStateException("no action named " + name);
        };
    }

    public CycleConfiguration configuration()
    {
        return configuration;
    }

    public PlacementPolicy policy()
    {
        return configuration.policy();
    }

    public SchedulingOptions options()
    {
        return configuration.options();
    }

    public Ordering ordering()
    {
        return configuration.ordering();
    }

    /** Names of the actions this cycle runs, in order. */
    public List<String> actionNames()
    {
        return configuration.actions();
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
        Session session = new Session(snapshot, configuration.options(), configuration.policy(), configuration.ordering(), taken);
        for (Action action : actions) {
            action.execute(session);
        }
        Decisions decisions = session.decisions();
        taken.remember(decisions, session.state());
        memo.set(taken);
        return decisions;
    }
}

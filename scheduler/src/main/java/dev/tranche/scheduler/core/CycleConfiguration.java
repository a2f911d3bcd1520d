package dev.tranche.scheduler.core;

import dev.tranche.scheduler.core.placement.PlacementPolicies;
import dev.tranche.scheduler.core.placement.PlacementPolicy;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/**
 * What a {@link SchedulingCycle} is built from: its actions in the order they run, the victim filters
 * of each action that evicts, the ordering, the placement policy and the options. Validated when
 * made, so a cycle never starts with a name it does not know or flags that contradict its actions.
 *
 * <p>The evicting actions listed must be exactly those the options and the ordering turn on
 * ({@code reclaim} for {@link SchedulingOptions#reclaim()}, {@code preempt} for
 * {@link SchedulingOptions#preempt()}, {@code preempt-by-rank} for {@link Ordering#preemptByRank()}):
 * callers such as the simulator read those flags to know what a cycle may evict.
 *
 * @param actions action names in the order they run; {@code allocate} first
 * @param victimFilters for each listed action that evicts, the filters a victim must pass (all of
 *         them; an empty list leaves every borrowable allocation a candidate)
 */
public record CycleConfiguration(List<String> actions, Map<String, List<VictimFilter>> victimFilters, Ordering ordering, PlacementPolicy policy,
                                 SchedulingOptions options)
{
    public static final String ALLOCATE = AllocateAction.NAME;
    public static final String RECLAIM = ReclaimAction.NAME;
    public static final String PREEMPT = PreemptAction.NAME;
    public static final String PREEMPT_BY_RANK = RankPreemptAction.NAME;

    /** Each evicting action's filters when none are given: the rules the actions have always had. */
    private static final Map<String, List<VictimFilter>> DEFAULT_VICTIM_FILTERS = Map.of(
            RECLAIM, List.of(VictimFilters.OTHER_PROJECTS),
            PREEMPT, List.of(VictimFilters.SAME_PROJECT, VictimFilters.LOWER_PRIORITY),
            PREEMPT_BY_RANK, List.of(VictimFilters.RANKS_AFTER, VictimFilters.NO_HIGHER_PRIORITY));

    public CycleConfiguration
    {
        requireNonNull(actions, "actions is null");
        requireNonNull(victimFilters, "victimFilters is null");
        requireNonNull(ordering, "ordering is null");
        requireNonNull(policy, "policy is null");
        requireNonNull(options, "options is null");
        actions = List.copyOf(actions);
        Set<String> listed = new HashSet<>();
        for (String action : actions) {
            if (!actionNames().contains(action)) {
                throw new IllegalArgumentException("unknown action \"" + action + "\"; known: " + String.join(", ", actionNames()));
            }
            if (!listed.add(action)) {
                throw new IllegalArgumentException("action " + action + " is listed twice");
            }
        }
        if (actions.isEmpty() || !actions.get(0).equals(ALLOCATE)) {
            throw new IllegalArgumentException("the first action must be " + ALLOCATE + " (the others act on what it could not place); got " + actions);
        }
        requireListedAsTurnedOn(listed, RECLAIM, options.reclaim(), "the options turn reclaim " + (options.reclaim() ? "on" : "off"));
        requireListedAsTurnedOn(listed, PREEMPT, options.preempt(), "the options turn preempt " + (options.preempt() ? "on" : "off"));
        requireListedAsTurnedOn(listed, PREEMPT_BY_RANK, ordering.preemptByRank(),
                "ordering " + ordering.name() + (ordering.preemptByRank() ? " preempts by rank" : " does not preempt by rank"));
        Map<String, List<VictimFilter>> filters = new LinkedHashMap<>();
        victimFilters.forEach((action, list) -> {
            requireNonNull(action, "victimFilters has a null action");
            requireNonNull(list, "victimFilters of " + action + " is null");
            if (!DEFAULT_VICTIM_FILTERS.containsKey(action)) {
                throw new IllegalArgumentException(actionNames().contains(action)
                        ? "action " + action + " evicts nothing and takes no victim filters"
                        : "victim filters for unknown action \"" + action + "\"; known: " + String.join(", ", actionNames()));
            }
            if (!listed.contains(action)) {
                throw new IllegalArgumentException("victim filters for " + action + ", which the actions do not list");
            }
            filters.put(action, List.copyOf(list));
        });
        for (String action : actions) {
            if (DEFAULT_VICTIM_FILTERS.containsKey(action) && !filters.containsKey(action)) {
                throw new IllegalArgumentException("action " + action + " evicts and needs its victim filters (by default: " + String.join(", ", names(DEFAULT_VICTIM_FILTERS.get(action))) + ")");
            }
        }
        victimFilters = Map.copyOf(filters);
    }

    /** Every action a configuration may list, in the order the default cycle runs them. */
    public static List<String> actionNames()
    {
        return List.of(ALLOCATE, RECLAIM, PREEMPT, PREEMPT_BY_RANK);
    }

    /**
     * Today's cycle: allocate, then reclaim and preempt as the options turn them on, then preemption
     * by rank if the ordering does it, each evicting action with its default filters.
     */
    public static CycleConfiguration defaults(PlacementPolicy policy, SchedulingOptions options, Ordering ordering)
    {
        requireNonNull(options, "options is null");
        requireNonNull(ordering, "ordering is null");
        List<String> actions = actionNames().stream()
                .filter(action -> switch (action) {
                    case RECLAIM -> options.reclaim();
                    case PREEMPT -> options.preempt();
                    case PREEMPT_BY_RANK -> ordering.preemptByRank();
                    default -> true;
                })
                .toList();
        return new CycleConfiguration(actions, defaultFilters(actions), ordering, policy, options);
    }

    /**
     * A configuration by names, as a flag or file would give them: {@code victimFilters} lists filter
     * names per action, and an evicting action it leaves out gets its default filters.
     *
     * @throws IllegalArgumentException for an unknown name of an action, victim filter, ordering or
     *         placement policy (the message lists the known ones) or a configuration that does not hold
     */
    public static CycleConfiguration of(List<String> actions, Map<String, List<String>> victimFilters, String ordering, String placementPolicy,
            SchedulingOptions options)
    {
        requireNonNull(actions, "actions is null");
        requireNonNull(victimFilters, "victimFilters is null");
        requireNonNull(ordering, "ordering is null");
        requireNonNull(placementPolicy, "placementPolicy is null");
        Map<String, List<VictimFilter>> filters = new LinkedHashMap<>();
        victimFilters.forEach((action, names) -> filters.put(action, names.stream().map(VictimFilters::byName).toList()));
        defaultFilters(actions).forEach(filters::putIfAbsent);
        return new CycleConfiguration(actions, filters, Ordering.byName(ordering), PlacementPolicies.byName(placementPolicy), options);
    }

    /** The same configuration with the given actions; evicting actions it did not list before get their default filters. */
    public CycleConfiguration withActions(List<String> newActions)
    {
        Map<String, List<VictimFilter>> filters = new LinkedHashMap<>();
        for (String action : newActions) {
            List<VictimFilter> kept = victimFilters.get(action);
            if (kept != null) {
                filters.put(action, kept);
            }
        }
        defaultFilters(newActions).forEach(filters::putIfAbsent);
        return new CycleConfiguration(newActions, filters, ordering, policy, options);
    }

    /** The same configuration with {@code action}'s victim filters replaced. */
    public CycleConfiguration withVictimFilters(String action, List<VictimFilter> filters)
    {
        Map<String, List<VictimFilter>> changed = new LinkedHashMap<>(victimFilters);
        changed.put(action, filters);
        return new CycleConfiguration(actions, changed, ordering, policy, options);
    }

    /** The names of {@code action}'s victim filters, in order; empty for an action that evicts nothing. */
    public List<String> victimFilterNames(String action)
    {
        return names(victimFilters.getOrDefault(action, List.of()));
    }

    private static Map<String, List<VictimFilter>> defaultFilters(List<String> actions)
    {
        Map<String, List<VictimFilter>> filters = new LinkedHashMap<>();
        for (String action : actions) {
            List<VictimFilter> defaults = DEFAULT_VICTIM_FILTERS.get(action);
            if (defaults != null) {
                filters.put(action, defaults);
            }
        }
        return filters;
    }

    private static void requireListedAsTurnedOn(Set<String> listed, String action, boolean turnedOn, String because)
    {
        if (listed.contains(action) != turnedOn) {
            throw new IllegalArgumentException(because + " but the actions " + (turnedOn ? "do not list " : "list ") + action);
        }
    }

    private static List<String> names(List<VictimFilter> filters)
    {
        return filters.stream().map(VictimFilter::name).toList();
    }
}

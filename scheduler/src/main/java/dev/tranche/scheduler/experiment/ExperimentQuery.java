package dev.tranche.scheduler.experiment;

import java.util.EnumSet;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/**
 * A page of the experiment list, newest first, after a keyset cursor: only the given projects (empty:
 * every project; an empty set: none) and states (empty: every state).
 */
public record ExperimentQuery(Optional<Set<String>> projects, Set<ExperimentState> states, int limit, OptionalLong beforeSequence)
{
    public static final int MAX_LIMIT = 1000;

    public ExperimentQuery
    {
        projects = requireNonNull(projects, "projects is null").map(Set::copyOf);
        states = states.isEmpty() ? EnumSet.noneOf(ExperimentState.class) : EnumSet.copyOf(requireNonNull(states, "states is null"));
        requireNonNull(beforeSequence, "beforeSequence is null");
        if (limit < 1 || limit > MAX_LIMIT) {
            throw new IllegalArgumentException("page_size must be in [1, " + MAX_LIMIT + "]: got " + limit);
        }
    }
}

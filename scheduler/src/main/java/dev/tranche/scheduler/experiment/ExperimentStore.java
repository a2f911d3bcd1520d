package dev.tranche.scheduler.experiment;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/**
 * Where experiments and their history are kept, as the experiment domain needs it; the store package
 * implements it (so the domain does not depend on the database, and the store depends on the domain).
 */
public interface ExperimentStore
{
    /** What storing a submission gave: the experiment, and whether this call created it. */
    record Inserted(ExperimentRecord experiment, boolean created) {}

    /** A submission waiting for the group commit ({@link SubmissionWriter}). */
    record NewExperiment(String id, ExperimentSpec spec, Optional<String> requestId, String reason)
    {
        public NewExperiment
        {
            requireNonNull(id, "id is null");
            requireNonNull(spec, "spec is null");
            requireNonNull(requestId, "requestId is null");
            requireNonNull(reason, "reason is null");
        }
    }

    /** The random experiment id is taken already; the caller draws another. */
    final class IdClashException
            extends RuntimeException
    {
        public IdClashException(String id)
        {
            super("experiment id " + id + " is taken");
        }
    }

    /**
     * Stores a new PENDING experiment. With a request id already used in the project, stores nothing
     * and returns the earlier experiment. Unknown project: {@code NotFoundException}. A clash of the
     * random id: {@link IdClashException}.
     */
    Inserted insert(String id, ExperimentSpec spec, Optional<String> requestId, String reason);

    /** Stores many new experiments in one transaction; the result has one entry per input, in order. */
    List<Inserted> insertAll(List<NewExperiment> batch);

    Optional<ExperimentRecord> find(String id);

    List<Transition> history(String id);

    ExperimentPage list(ExperimentQuery query);

    /**
     * Experiments in one of {@code states} (empty: every state) of {@code projects} (empty: every
     * project; an empty set: none), in submission order after {@code afterSequence}, at most
     * {@code limit}: a long list read a page at a time, oldest first.
     */
    List<ExperimentRecord> listOldestFirst(Optional<Set<String>> projects, Set<ExperimentState> states, long afterSequence, int limit);

    /** A finished experiment that ran: what a replay of the history needs of it. */
    record FinishedRun(ExperimentRecord experiment, double runSeconds)
    {
        public FinishedRun
        {
            requireNonNull(experiment, "experiment is null");
            if (!experiment.state().isTerminal() || !(runSeconds > 0)) {
                throw new IllegalArgumentException("a finished run is in a final state and ran: got " + experiment.state() + " after " + runSeconds + " s");
            }
        }
    }

    /**
     * Experiments in a final state that spent time RUNNING (summed over every attempt), submitted in
     * [{@code since}, {@code until}), of {@code projects} (empty: every project), in submission order
     * after {@code afterSequence}, at most {@code limit}.
     */
    List<FinishedRun> finishedRuns(Instant since, Instant until, Optional<Set<String>> projects, long afterSequence, int limit);

    /** Moves an experiment from one of {@code from} to {@code to}; otherwise a {@code StateConflictException}. */
    ExperimentChange transition(String id, Set<ExperimentState> from, ExperimentState to, String reason);
}

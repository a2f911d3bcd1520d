package dev.tranche.scheduler.experiment;

import dev.tranche.scheduler.errors.AlreadyExistsException;
import dev.tranche.scheduler.errors.AsyncFailures;
import dev.tranche.scheduler.errors.NotFoundException;

import java.security.SecureRandom;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import static java.util.Objects.requireNonNull;

/**
 * What users do with experiments: submit, look, list, cancel. Takes specs already validated where they entered (the API adapters), checks what only the server knows (dataset roots) before anything is stored,
 * stores before anything is acknowledged, and tells watchers after the commit.
 */
public final class ExperimentManager
{
    private static final int MAX_REQUEST_ID = 128;
    private static final int MAX_REASON = 1024;
    private static final char[] ID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz".toCharArray();

    private final ExperimentStore experiments;
    private final SubmissionWriter writer;
    private final ExperimentEventBus events;
    private final DatasetRoots datasetRoots;
    private final SecureRandom random = new SecureRandom();

    public ExperimentManager(ExperimentStore experiments, SubmissionWriter writer, ExperimentEventBus events, DatasetRoots datasetRoots)
    {
        this.datasetRoots = requireNonNull(datasetRoots, "datasetRoots is null");
        this.experiments = requireNonNull(experiments, "experiments is null");
        this.writer = requireNonNull(writer, "writer is null");
        this.events = requireNonNull(events, "events is null");
    }

    public record Submission(ExperimentRecord experiment, boolean created) {}

    /**
     * Checks what only the server knows, then queues the experiment for storing. The future completes
     * once it is committed (watchers told) or refused; bad input is refused at once, before anything
     * is queued.
     */
    public CompletableFuture<Submission> submit(ExperimentSpec spec, String requestId)
    {
        requireNonNull(spec, "spec is null");
        requireNonNull(requestId, "requestId is null");
        if (requestId.length() > MAX_REQUEST_ID || requestId.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            throw new IllegalArgumentException("request_id must be at most " + MAX_REQUEST_ID + " printable characters: got " + requestId.length() + " characters");
        }
        datasetRoots.check(spec.training().dataset().location());
        return store(spec, requestId.isEmpty() ? Optional.empty() : Optional.of(requestId), 0);
    }

    private CompletableFuture<Submission> store(ExperimentSpec spec, Optional<String> request, int attempt)
    {
        String reason = "submitted; waiting for the scheduler";
        return writer.write(new ExperimentStore.NewExperiment(newId(), spec, request, reason)).handle((inserted, failure) -> {
            if (failure != null) {
                Throwable cause = AsyncFailures.cause(failure);
                // a new id that clashed with a stored one: draw again, a few times at most
                if (cause instanceof ExperimentStore.IdClashException && attempt < 3) {
                    return store(spec, request, attempt + 1);
                }
                return CompletableFuture.<Submission>failedFuture(cause);
            }
            if (!inserted.created()) {
                if (!inserted.experiment().spec().equals(spec)) {
                    return CompletableFuture.<Submission>failedFuture(new AlreadyExistsException("request_id " + request.orElse("")
                            + " was used for experiment " + inserted.experiment().id() + " with a different spec; use a new request id for a new experiment"));
                }
                return CompletableFuture.completedFuture(new Submission(inserted.experiment(), false));
            }
            ExperimentRecord record = inserted.experiment();
            events.publish(new ExperimentChange(record, new Transition(record.id(), Optional.empty(), ExperimentState.PENDING, reason, record.createdAt())));
            return CompletableFuture.completedFuture(new Submission(record, true));
        }).thenCompose(next -> next);
    }

    public ExperimentRecord get(String id)
    {
        return experiments.find(checkId(id)).orElseThrow(() -> new NotFoundException("experiment " + id + " does not exist"));
    }

    public List<Transition> history(String id)
    {
        return experiments.history(id);
    }

    public ExperimentPage list(ExperimentQuery query)
    {
        return experiments.list(query);
    }

    /** See {@link ExperimentStore#listOldestFirst}; {@code limit} at most {@link ExperimentQuery#MAX_LIMIT}. */
    public List<ExperimentRecord> listOldestFirst(Optional<Set<String>> projects, Set<ExperimentState> states, long afterSequence, int limit)
    {
        if (limit < 1 || limit > ExperimentQuery.MAX_LIMIT) {
            throw new IllegalArgumentException("limit must be in [1, " + ExperimentQuery.MAX_LIMIT + "]: got " + limit);
        }
        return experiments.listOldestFirst(projects, states, afterSequence, limit);
    }

    /** See {@link ExperimentStore#finishedRuns}; {@code limit} at most {@link ExperimentQuery#MAX_LIMIT}. */
    public List<ExperimentStore.FinishedRun> finishedRuns(Instant since, Instant until, Optional<Set<String>> projects, long afterSequence, int limit)
    {
        if (!since.isBefore(until)) {
            throw new IllegalArgumentException("since must be before until: got since " + since + ", until " + until);
        }
        if (limit < 1 || limit > ExperimentQuery.MAX_LIMIT) {
            throw new IllegalArgumentException("limit must be in [1, " + ExperimentQuery.MAX_LIMIT + "]: got " + limit);
        }
        return experiments.finishedRuns(since, until, projects, afterSequence, limit);
    }

    public ExperimentRecord cancel(String id, String reason)
    {
        checkId(id);
        if (reason.length() > MAX_REASON) {
            throw new IllegalArgumentException("reason must be at most " + MAX_REASON + " characters: got " + reason.length());
        }
        ExperimentRecord current = get(id);
        if (current.state() == ExperimentState.CANCELLED) {
            return current;
        }
        String why = reason.isBlank() ? "cancelled by user" : "cancelled by user: " + reason.strip();
        ExperimentChange change = experiments.transition(id, ExperimentState.cancellable(), ExperimentState.CANCELLED, why);
        events.publish(change);
        return change.experiment();
    }

    private static String checkId(String id)
    {
        if (id.isEmpty()) {
            throw new IllegalArgumentException("id is required");
        }
        if (id.length() > 64) {
            throw new IllegalArgumentException("id must be at most 64 characters: got " + id.length());
        }
        return id;
    }

    /** "exp-" and 10 random base-32 characters: 50 bits, short enough to type. */
    private String newId()
    {
        char[] id = new char[10];
        for (int i = 0; i < id.length; i++) {
            id[i] = ID_ALPHABET[random.nextInt(ID_ALPHABET.length)];
        }
        return "exp-" + new String(id);
    }
}

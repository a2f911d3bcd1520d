package dev.tranche.scheduler.service;

import dev.tranche.proto.v1.CancelExperimentRequest;
import dev.tranche.proto.v1.Experiment;
import dev.tranche.proto.v1.ExperimentEvent;
import dev.tranche.proto.v1.ExperimentServiceGrpc;
import dev.tranche.proto.v1.ExportHistoryRequest;
import dev.tranche.proto.v1.HistoryJob;
import dev.tranche.proto.v1.GetExperimentRequest;
import dev.tranche.proto.v1.GetLogsRequest;
import dev.tranche.proto.v1.GetLogsResponse;
import dev.tranche.proto.v1.ListExperimentsRequest;
import dev.tranche.proto.v1.ListExperimentsResponse;
import dev.tranche.proto.v1.SubmitExperimentRequest;
import dev.tranche.proto.v1.SubmitExperimentResponse;
import dev.tranche.proto.v1.WatchExperimentsRequest;
import dev.tranche.scheduler.backend.WorkerLogs;
import dev.tranche.scheduler.experiment.ExperimentChange;
import dev.tranche.scheduler.experiment.ExperimentEventBus;
import dev.tranche.scheduler.experiment.ExperimentManager;
import dev.tranche.scheduler.metrics.MetricsStore;
import dev.tranche.scheduler.experiment.ExperimentPage;
import dev.tranche.scheduler.experiment.ExperimentQuery;
import dev.tranche.scheduler.experiment.ExperimentRecord;
import dev.tranche.scheduler.experiment.ExperimentState;
import dev.tranche.scheduler.experiment.ExperimentStore;
import dev.tranche.scheduler.security.Callers;
import dev.tranche.scheduler.security.Principal;
import dev.tranche.scheduler.wire.ExperimentSpecs;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Map;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.Semaphore;
import java.util.function.Consumer;

import static java.util.Objects.requireNonNull;

/** tranche.v1.ExperimentService over {@link ExperimentManager}: translation only. */
public final class ExperimentGrpcService
        extends ExperimentServiceGrpc.ExperimentServiceImplBase
{
    static final int DEFAULT_PAGE_SIZE = 50;
    private static final int WATCH_QUEUE = 10_000;
    private static final int EXPORT_PAGE = 500;
    /** An export whose client reads nothing for this long gives its place to one that waits for it. */
    static final java.time.Duration EXPORT_STALL = java.time.Duration.ofSeconds(60);
    // a watch's first list is read this many at a time; changes held back meanwhile are bounded so that
    // with up to two pages of it queued the client is at most WATCH_QUEUE events behind
    private static final int SNAPSHOT_PAGE = ExperimentQuery.MAX_LIMIT;
    private static final int EARLY_CHANGES = WATCH_QUEUE - 2 * SNAPSHOT_PAGE;
    private static final String PAGE_TOKEN_PREFIX = "before:";
    private static final Set<ExperimentState> ACTIVE_STATES = EnumSet.of(ExperimentState.PENDING, ExperimentState.SCHEDULED,
            ExperimentState.RUNNING, ExperimentState.PREEMPTED);

    private final ExperimentManager experiments;
    private final MetricsStore metrics;
    private final ExperimentEventBus events;
    private final Executor watchExecutor;
    private final WorkerLogs logs;
    /** Each open watch, with the key of the caller that opened it (a user's token id). */
    private final Map<WatchStream<ExperimentEvent>, String> openWatches = new ConcurrentHashMap<>();
    // past either limit the next call is refused: each export holds a stream (and a temporary file behind
    // the HTTP route), each watch a subscription and a queue of up to WATCH_QUEUE events
    private final int maxConcurrentExports;
    private final Semaphore exportSlots;
    private final Set<Export> runningExports = ConcurrentHashMap.newKeySet();
    private final int maxWatchesPerCaller;
    private final OpenStreams watchesPerCaller;
    /** What token expiry is judged by (the token service's clock). */
    private final Clock clock;

    /**
     * @param maxConcurrentExports history exports running at once, for all callers
     * @param maxWatchesPerCaller watches open at once per token
     */
    public ExperimentGrpcService(ExperimentManager experiments, MetricsStore metrics, ExperimentEventBus events, Executor watchExecutor, WorkerLogs logs,
            int maxConcurrentExports, int maxWatchesPerCaller, Clock clock)
    {
        this.clock = requireNonNull(clock, "clock is null");
        if (maxConcurrentExports < 1 || maxWatchesPerCaller < 1) {
            throw new IllegalArgumentException("stream limits must be at least 1: got " + maxConcurrentExports + " exports, " + maxWatchesPerCaller + " watches");
        }
        this.maxConcurrentExports = maxConcurrentExports;
        this.exportSlots = new Semaphore(maxConcurrentExports);
        this.maxWatchesPerCaller = maxWatchesPerCaller;
        this.watchesPerCaller = new OpenStreams(maxWatchesPerCaller);
        this.metrics = requireNonNull(metrics, "metrics is null");
        this.logs = requireNonNull(logs, "logs is null");
        this.experiments = requireNonNull(experiments, "experiments is null");
        this.events = requireNonNull(events, "events is null");
        this.watchExecutor = requireNonNull(watchExecutor, "watchExecutor is null");
    }

    @Override
    public void submit(SubmitExperimentRequest request, StreamObserver<SubmitExperimentResponse> observer)
    {
        // answered when the group commit that stores it is done, from the writer's thread: no call
        // thread waits for the commit
        GrpcErrors.unaryAsync(observer, () -> {
            if (!request.hasSpec()) {
                throw new IllegalArgumentException("spec is required");
            }
            if (!request.getSpec().getProject().isEmpty()) {
                Callers.requireWrite(Callers.current(), request.getSpec().getProject());
            }
            return experiments.submit(ExperimentSpecs.fromRequest(request.getSpec()), request.getRequestId())
                    .thenApply(submission -> SubmitExperimentResponse.newBuilder()
                            .setExperiment(ProtoMapper.experiment(submission.experiment(), List.of()))
                            .setCreated(submission.created())
                            .build());
        });
    }

    @Override
    public void get(GetExperimentRequest request, StreamObserver<Experiment> observer)
    {
        GrpcErrors.unary(observer, () -> {
            ExperimentRecord record = Visibility.readable(experiments, Callers.current(), request.getId());
            return ProtoMapper.experiment(record, experiments.history(record.id()));
        });
    }

    @Override
    public void list(ListExperimentsRequest request, StreamObserver<ListExperimentsResponse> observer)
    {
        GrpcErrors.unary(observer, () -> {
            if (request.getPageSize() < 0 || request.getPageSize() > ExperimentQuery.MAX_LIMIT) {
                throw new IllegalArgumentException("page_size must be in [1, " + ExperimentQuery.MAX_LIMIT + "] (0 for " + DEFAULT_PAGE_SIZE + "): got " + request.getPageSize());
            }
            Set<ExperimentState> states = EnumSet.noneOf(ExperimentState.class);
            request.getStatesList().forEach(state -> states.add(ProtoMapper.state(state)));
            ExperimentQuery query = new ExperimentQuery(
                    visibleProjects(Callers.current(), request.getProject()),
                    states,
                    request.getPageSize() == 0 ? DEFAULT_PAGE_SIZE : request.getPageSize(),
                    pageCursor(request.getPageToken()));
            ExperimentPage page = experiments.list(query);
            ListExperimentsResponse.Builder response = ListExperimentsResponse.newBuilder();
            page.experiments().forEach(record -> response.addExperiments(ProtoMapper.experiment(record, List.of())));
            page.nextBeforeSequence().ifPresent(sequence -> response.setNextPageToken(pageToken(sequence)));
            // progress: the newest epoch each experiment on the page has reported
            response.putAllEpochsReported(metrics.latestEpochs(page.experiments().stream().map(ExperimentRecord::id).toList()));
            return response.build();
        });
    }

    @Override
    public void exportHistory(ExportHistoryRequest request, StreamObserver<HistoryJob> observer)
    {
        ServerCallStreamObserver<HistoryJob> call = (ServerCallStreamObserver<HistoryJob>) observer;
        Optional<Set<String>> projects;
        Instant since;
        Instant until;
        try {
            projects = visibleProjects(Callers.current(), request.getProject());
            since = request.hasSince() ? ProtoMapper.instant(request.getSince(), "since") : Instant.EPOCH;
            until = request.hasUntil() ? ProtoMapper.instant(request.getUntil(), "until") : ProtoMapper.END_OF_TIME;
            if (!since.isBefore(until)) {
                throw new IllegalArgumentException("since must be before until: got since " + since + ", until " + until);
            }
        }
        catch (RuntimeException e) {
            observer.onError(GrpcErrors.toStatus(e));
            return;
        }
        if (!exportSlots.tryAcquire() && !(evictStalledExport() && exportSlots.tryAcquire())) {
            observer.onError(Status.RESOURCE_EXHAUSTED.withDescription("at most " + maxConcurrentExports
                    + (maxConcurrentExports == 1 ? " history export runs" : " history exports run") + " at once on this server; try again when one has finished")
                    .asRuntimeException());
            return;
        }
        Export export = new Export(call, since, until, projects);
        runningExports.add(export);
        call.setOnCancelHandler(export::release);
        call.setOnReadyHandler(export::pump);
        export.pump();
    }

    /**
     * Ends the export whose client has read nothing for the longest, if that is over {@link
     * #EXPORT_STALL}: a client that opens exports and never reads must not keep them from everyone
     * else. Checked only when a slot is wanted, so no timer runs for it.
     */
    private boolean evictStalledExport()
    {
        Instant stalledBy = clock.instant().minus(EXPORT_STALL);
        // each export's stall read once: one that starts reading meanwhile must not be read twice differently
        Export longest = null;
        Instant longestSince = null;
        for (Export export : runningExports) {
            Optional<Instant> since = export.stalledSince();
            if (since.isPresent() && !since.get().isAfter(stalledBy) && (longestSince == null || since.get().isBefore(longestSince))) {
                longest = export;
                longestSince = since.get();
            }
        }
        return Optional.ofNullable(longest)
                .map(export -> export.fail(Status.DEADLINE_EXCEEDED.withDescription("the client read nothing of this history export for "
                        + EXPORT_STALL.toSeconds() + " s while another export waited for its place; export again")))
                .orElse(false);
    }

    /** One history export: sent a page at a time, and only while the client keeps up, so it holds one page in memory. */
    private final class Export
    {
        private final ServerCallStreamObserver<HistoryJob> call;
        private final Instant since;
        private final Instant until;
        private final Optional<Set<String>> projects;
        private long after;
        private boolean done;
        private Instant lastProgress;

        Export(ServerCallStreamObserver<HistoryJob> call, Instant since, Instant until, Optional<Set<String>> projects)
        {
            this.call = call;
            this.since = since;
            this.until = until;
            this.projects = projects;
            this.lastProgress = clock.instant();
        }

        synchronized void pump()
        {
            try {
                while (!done && call.isReady()) {
                    List<ExperimentStore.FinishedRun> page = experiments.finishedRuns(since, until, projects, after, EXPORT_PAGE);
                    for (ExperimentStore.FinishedRun run : page) {
                        call.onNext(ProtoMapper.historyJob(run));
                        after = run.experiment().sequence();
                    }
                    lastProgress = clock.instant();
                    if (page.size() < EXPORT_PAGE) {
                        release();
                        call.onCompleted();
                    }
                }
            }
            catch (RuntimeException e) {
                fail(GrpcErrors.toStatus(e).getStatus());
            }
        }

        /** When the client stopped taking what is sent; empty while it keeps up or once the export has ended. */
        synchronized Optional<Instant> stalledSince()
        {
            return done || call.isReady() ? Optional.empty() : Optional.of(lastProgress);
        }

        /** Ends the export with {@code status}; false when it had ended already. */
        synchronized boolean fail(Status status)
        {
            if (done) {
                return false;
            }
            release();
            call.onError(status.asRuntimeException());
            return true;
        }

        /** Gives the export's place back, once, whichever comes first: the last page sent, a failure, or the client gone. */
        synchronized void release()
        {
            if (!done) {
                done = true;
                runningExports.remove(this);
                exportSlots.release();
            }
        }
    }

    @Override
    public void cancel(CancelExperimentRequest request, StreamObserver<Experiment> observer)
    {
        GrpcErrors.unary(observer, () -> {
            Visibility.writable(experiments, Callers.current(), request.getId());
            ExperimentRecord record = experiments.cancel(request.getId(), request.getReason());
            return ProtoMapper.experiment(record, experiments.history(record.id()));
        });
    }

    @Override
    public void watch(WatchExperimentsRequest request, StreamObserver<ExperimentEvent> observer)
    {
        ServerCallStreamObserver<ExperimentEvent> call = (ServerCallStreamObserver<ExperimentEvent>) observer;
        Principal caller;
        Optional<Set<String>> projects;
        try {
            caller = Callers.current();
            if (!request.getId().isEmpty()) {
                Visibility.readable(experiments, caller, request.getId());
            }
            projects = visibleProjects(caller, request.getProject());
        }
        catch (RuntimeException e) {
            observer.onError(GrpcErrors.toStatus(e));
            return;
        }
        String key = caller.rateKey();
        if (!watchesPerCaller.tryOpen(key)) {
            observer.onError(Status.RESOURCE_EXHAUSTED.withDescription("at most " + maxWatchesPerCaller
                    + (maxWatchesPerCaller == 1 ? " watch may" : " watches may") + " be open at once with one token; close one (each dashboard tab holds one) and watch again").asRuntimeException());
            return;
        }
        // a token is checked when a call starts; a watch lasts, so it ends when its token expires
        Optional<WatchStream.Expiry> expiry = caller instanceof Principal.User user
                ? user.expiresAt().map(at -> new WatchStream.Expiry(at, clock, io.grpc.Status.UNAUTHENTICATED.withDescription(
                        "token " + user.tokenId() + " expired at " + at + "; this watch has ended")))
                : Optional.empty();
        WatchStream<ExperimentEvent> stream = new WatchStream<>(call, watchExecutor, WATCH_QUEUE, expiry);
        openWatches.put(stream, key);
        stream.onFinish(() -> {
            openWatches.remove(stream);
            watchesPerCaller.close(key);
        });
        try {
            if (!request.getId().isEmpty()) {
                watchOne(request.getId(), call, stream);
            }
            else {
                watchMany(projects, request.getSkipCurrent(), call, stream);
            }
        }
        catch (RuntimeException e) {
            // an exception that left here would close the call with no cancel callback: the place
            // (and a subscription) would be held for good; failing the stream lets both go
            stream.fail(GrpcErrors.toStatus(e).getStatus());
        }
    }

    /**
     * The active experiments of a project (or of all) first, oldest first, then every change. Changes
     * that race with reading that first list are held back and sent after it, each experiment at most
     * once per version. The list is read a page at a time as the client takes it: a backlog of 100,000
     * holds two pages here, not the whole list.
     */
    private void watchMany(Optional<Set<String>> projects, boolean skipCurrent, ServerCallStreamObserver<ExperimentEvent> call, WatchStream<ExperimentEvent> stream)
    {
        Object lock = new Object();
        List<ExperimentChange> early = new ArrayList<>();
        SentVersions snapshotVersions = new SentVersions();
        boolean[] live = {false};
        Consumer<ExperimentChange> forward = change -> {
            if (change.experiment().version() <= snapshotVersions.versionOf(change.experiment().sequence())) {
                return;
            }
            stream.send(ProtoMapper.event(change));
        };
        ExperimentEventBus.Subscription subscription = events.subscribe(
                change -> projects.map(visible -> visible.contains(change.experiment().project())).orElse(true),
                change -> {
                    synchronized (lock) {
                        if (live[0]) {
                            forward.accept(change);
                        }
                        else if (early.size() < EARLY_CHANGES) {
                            early.add(change);
                        }
                        else {
                            stream.fail(stream.fellBehind());
                        }
                    }
                });
        stream.onFinish(subscription::close);
        call.setOnCancelHandler(stream::cancelled);
        if (skipCurrent) {
            synchronized (lock) {
                live[0] = true;
            }
            return;
        }
        Runnable nextPage = new Runnable()
        {
            private long after;

            @Override
            public void run()
            {
                try {
                    List<ExperimentRecord> page = experiments.listOldestFirst(projects, ACTIVE_STATES, after, SNAPSHOT_PAGE);
                    synchronized (lock) {
                        for (ExperimentRecord record : page) {
                            snapshotVersions.add(record.sequence(), record.version());
                            stream.send(ExperimentEvent.newBuilder().setExperiment(ProtoMapper.experiment(record, List.of())).build());
                            after = record.sequence();
                        }
                        if (page.size() < SNAPSHOT_PAGE) {
                            live[0] = true;
                            early.forEach(forward);
                            early.clear();
                            return;
                        }
                    }
                    // the next page once the client has taken most of this one
                    stream.whenQueuedAtMost(SNAPSHOT_PAGE, this);
                }
                catch (RuntimeException e) {
                    subscription.close();
                    stream.fail(GrpcErrors.toStatus(e).getStatus());
                }
            }
        };
        nextPage.run();
    }

    /**
     * The version each experiment of a watch's first list was sent at, by sequence (the list comes in
     * sequence order): two longs an experiment, where a map of 100,000 ids would hold megabytes.
     */
    private static final class SentVersions
    {
        private long[] sequences = new long[64];
        private long[] versions = new long[64];
        private int size;

        void add(long sequence, long version)
        {
            if (size == sequences.length) {
                sequences = Arrays.copyOf(sequences, size * 2);
                versions = Arrays.copyOf(versions, size * 2);
            }
            sequences[size] = sequence;
            versions[size] = version;
            size++;
        }

        /** The version sent, or Long.MIN_VALUE for an experiment that was not in the list. */
        long versionOf(long sequence)
        {
            int at = Arrays.binarySearch(sequences, 0, size, sequence);
            return at >= 0 ? versions[at] : Long.MIN_VALUE;
        }
    }

    /** Current state first, then each later change once; ends when the experiment ends. */
    private void watchOne(String id, ServerCallStreamObserver<ExperimentEvent> call, WatchStream<ExperimentEvent> stream)
    {
        Object lock = new Object();
        long[] lastVersion = {0};
        ExperimentEventBus.Subscription subscription = events.subscribe(
                change -> change.experiment().id().equals(id),
                change -> {
                    synchronized (lock) {
                        if (change.experiment().version() <= lastVersion[0]) {
                            return;
                        }
                        lastVersion[0] = change.experiment().version();
                        stream.send(ProtoMapper.event(change));
                        if (change.experiment().state().isTerminal()) {
                            stream.complete();
                        }
                    }
                });
        stream.onFinish(subscription::close);
        call.setOnCancelHandler(stream::cancelled);
        synchronized (lock) {
            ExperimentRecord record;
            Experiment current;
            try {
                record = experiments.get(id);
                current = ProtoMapper.experiment(record, experiments.history(id));
            }
            catch (RuntimeException e) {
                // failing the stream gives the watch's place back when it has ended
                subscription.close();
                stream.fail(GrpcErrors.toStatus(e).getStatus());
                return;
            }
            lastVersion[0] = record.version();
            stream.send(ExperimentEvent.newBuilder().setExperiment(current).build());
            if (record.state().isTerminal()) {
                subscription.close();
                stream.complete();
            }
        }
    }

    @Override
    public void getLogs(GetLogsRequest request, StreamObserver<GetLogsResponse> observer)
    {
        GrpcErrors.unary(observer, () -> {
            ExperimentRecord record = Visibility.readable(experiments, Callers.current(), request.getId());
            if (request.getRank() < 0 || request.getRank() >= record.spec().replicas()) {
                throw new IllegalArgumentException("rank must be in [0, " + (record.spec().replicas() - 1) + "] for experiment " + record.id() + ": got " + request.getRank());
            }
            if (request.getTailLines() < 0 || request.getTailLines() > 10_000) {
                throw new IllegalArgumentException("tail_lines must be in [1, 10000] (0 for 100): got " + request.getTailLines());
            }
            return GetLogsResponse.newBuilder()
                    .addAllLines(logs.tail(record.id(), request.getRank(), request.getTailLines() == 0 ? 100 : request.getTailLines()))
                    .build();
        });
    }

    /**
     * The projects a list or watch covers: the one asked for (if the caller may read it), else all of
     * the caller's (every project for an admin: empty).
     */
    private static Optional<Set<String>> visibleProjects(Principal caller, String requested)
    {
        if (!requested.isEmpty()) {
            Callers.requireRead(caller, requested);
            return Optional.of(Set.of(requested));
        }
        if (caller.isAdmin()) {
            return Optional.empty();
        }
        return Optional.of(caller instanceof Principal.User user ? user.projects() : Set.of());
    }

    /** On shutdown: ends every open watch so clients reconnect instead of waiting on a closing server. */
    public void endWatches()
    {
        for (WatchStream<ExperimentEvent> stream : openWatches.keySet()) {
            stream.fail(io.grpc.Status.UNAVAILABLE.withDescription("the scheduler is shutting down; watch again when it is back"));
        }
        openWatches.clear();
    }

    /**
     * Ends the watches opened with a token that was just revoked: a token is checked when a call
     * starts, and a watch is one call that lasts, so without this it would go on showing the projects'
     * changes to whoever held the token.
     */
    public void tokenRevoked(String tokenId)
    {
        openWatches.forEach((stream, key) -> {
            if (key.equals(tokenId)) {
                stream.fail(io.grpc.Status.UNAUTHENTICATED.withDescription("token " + tokenId + " was revoked; this watch has ended"));
            }
        });
    }

    private static String pageToken(long beforeSequence)
    {
        return Base64.getUrlEncoder().withoutPadding().encodeToString((PAGE_TOKEN_PREFIX + beforeSequence).getBytes(StandardCharsets.UTF_8));
    }

    private static OptionalLong pageCursor(String token)
    {
        if (token.isEmpty()) {
            return OptionalLong.empty();
        }
        try {
            String decoded = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
            if (decoded.startsWith(PAGE_TOKEN_PREFIX)) {
                return OptionalLong.of(Long.parseLong(decoded.substring(PAGE_TOKEN_PREFIX.length())));
            }
        }
        catch (IllegalArgumentException e) {
            // falls through to the error below
        }
        throw new IllegalArgumentException("page_token is not one this server issued: got \"" + (token.length() > 40 ? token.substring(0, 40) + "..." : token) + "\"");
    }
}

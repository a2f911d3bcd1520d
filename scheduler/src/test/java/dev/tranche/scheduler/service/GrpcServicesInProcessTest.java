package dev.tranche.scheduler.service;

import dev.tranche.proto.v1.AdminServiceGrpc;
import dev.tranche.proto.v1.CreateProjectRequest;
import dev.tranche.proto.v1.Experiment;
import dev.tranche.proto.v1.ExperimentServiceGrpc;
import dev.tranche.proto.v1.ExperimentEvent;
import dev.tranche.proto.v1.ExperimentState;
import dev.tranche.proto.v1.ExportHistoryRequest;
import dev.tranche.proto.v1.HistoryJob;
import dev.tranche.proto.v1.GetExperimentRequest;
import dev.tranche.proto.v1.Project;
import dev.tranche.proto.v1.SubmitExperimentRequest;
import dev.tranche.proto.v1.WatchExperimentsRequest;
import dev.tranche.scheduler.backend.WorkerLogs;
import dev.tranche.scheduler.experiment.DatasetRoots;
import dev.tranche.scheduler.experiment.ExperimentEventBus;
import dev.tranche.scheduler.experiment.ExperimentChange;
import dev.tranche.scheduler.experiment.ExperimentManager;
import dev.tranche.scheduler.experiment.ExperimentPage;
import dev.tranche.scheduler.experiment.ExperimentQuery;
import dev.tranche.scheduler.experiment.ExperimentRecord;
import dev.tranche.scheduler.experiment.ExperimentSpec;
import dev.tranche.scheduler.experiment.ExperimentStore;
import dev.tranche.scheduler.experiment.Transition;
import dev.tranche.scheduler.errors.StoreException;
import dev.tranche.scheduler.experiment.SubmissionWriter;
import dev.tranche.scheduler.metrics.WorkerCredentials;
import dev.tranche.scheduler.project.ProjectManager;
import dev.tranche.scheduler.security.AccessPolicy;
import dev.tranche.scheduler.security.AuditLog;
import dev.tranche.scheduler.security.AuthInterceptor;
import dev.tranche.scheduler.security.FailedAuthentications;
import dev.tranche.scheduler.security.RateLimiter;
import dev.tranche.scheduler.security.Role;
import dev.tranche.scheduler.security.SecuritySettings;
import dev.tranche.scheduler.security.TokenSecrets;
import dev.tranche.scheduler.security.TokenService;
import dev.tranche.scheduler.store.AuditRepository;
import dev.tranche.scheduler.store.ClusterRepository;
import dev.tranche.scheduler.store.ExperimentRepository;
import dev.tranche.scheduler.store.MetricsRepository;
import dev.tranche.scheduler.store.ProjectRepository;
import dev.tranche.scheduler.store.SecretRepository;
import dev.tranche.scheduler.store.TokenRepository;
import dev.tranche.scheduler.store.UsageRepository;
import dev.tranche.scheduler.testing.AdjustableClock;
import dev.tranche.scheduler.testing.Specs;
import dev.tranche.scheduler.testing.TestingDatabase;
import dev.tranche.scheduler.wire.ExperimentSpecs;
import dev.tranche.spec.ExperimentSpecValidator;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.MetadataUtils;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The services as the server composes them, served in-process: no Netty, no Jetty, no ports. The
 * store is real (PostgreSQL), since submissions and tokens are what these calls are about.
 */
class GrpcServicesInProcessTest
{
    private static final int MAX_CONCURRENT_EXPORTS = SecuritySettings.DEFAULT_MAX_CONCURRENT_EXPORTS;
    private static final int MAX_WATCHES_PER_CALLER = SecuritySettings.DEFAULT_MAX_WATCHES_PER_TOKEN;

    @RegisterExtension
    static final TestingDatabase DATABASE = new TestingDatabase();

    @TempDir
    Path home;

    private final List<AutoCloseable> parts = new java.util.ArrayList<>();
    private ManagedChannel channel;
    private String adminToken;
    private TokenService tokens;
    private FailingHistory store;
    private SubmissionWriter writer;
    private final AdjustableClock clock = new AdjustableClock();

    @BeforeEach
    void serve()
            throws Exception
    {
        var dataSource = DATABASE.dataSource();
        ExperimentEventBus events = new ExperimentEventBus();
        ExperimentRepository repository = new ExperimentRepository(dataSource);
        writer = track(new SubmissionWriter(repository, 1, 16, 100));
        store = new FailingHistory(repository);
        ExperimentManager experiments = new ExperimentManager(store, writer, events, DatasetRoots.defaults(home));
        ProjectManager projects = new ProjectManager(new ProjectRepository(dataSource));
        WorkerCredentials credentials = new WorkerCredentials(new SecretRepository(dataSource).secret(WorkerCredentials.SECRET_NAME));
        AuditLog audit = track(new AuditLog(new AuditRepository(dataSource), 100));
        tokens = new TokenService(new TokenRepository(dataSource), new TokenSecrets(), credentials, projects::exists, clock);
        FailedAuthentications failures = track(new FailedAuthentications(100, 2, audit, clock, System::nanoTime));
        AuthInterceptor auth = new AuthInterceptor(AccessPolicy.standard(), tokens, new RateLimiter(1000, 2000, System::nanoTime), audit, failures, clock);
        ExecutorService watches = Executors.newCachedThreadPool();
        parts.add(watches::shutdownNow);
        MetricsRepository metrics = new MetricsRepository(dataSource);
        HealthStatusManager health = new HealthStatusManager();
        GrpcServices services = new GrpcServices(List.of(
                new ExperimentGrpcService(experiments, metrics, events, watches, WorkerLogs.NONE, MAX_CONCURRENT_EXPORTS, MAX_WATCHES_PER_CALLER, clock),
                new AdminGrpcService(projects, new ClusterRepository(dataSource), new UsageRepository(dataSource), clock),
                new MetricsGrpcService(experiments, metrics, credentials, events),
                new AuthGrpcService(tokens, audit)), health, auth);
        String name = InProcessServerBuilder.generateName();
        Server server = services.addTo(InProcessServerBuilder.forName(name)).build().start();
        parts.add(server::shutdownNow);
        channel = InProcessChannelBuilder.forName(name).build();
        parts.add(channel::shutdownNow);
        adminToken = tokens.issue("test", "admin-" + UUID.randomUUID(), Role.ADMIN, List.of(), Optional.empty()).secret();
    }

    @AfterEach
    void stop()
            throws Exception
    {
        for (int i = parts.size() - 1; i >= 0; i--) {
            parts.get(i).close();
        }
    }

    @Test
    void aSubmissionTravelsThroughAuthenticationTheGuardAndTheStore()
    {
        String project = "vision-" + UUID.randomUUID().toString().substring(0, 8);
        AdminServiceGrpc.newBlockingStub(channel).withInterceptors(bearer(adminToken))
                .createProject(CreateProjectRequest.newBuilder().setProject(Project.newBuilder().setName(project)).build());
        var experiments = ExperimentServiceGrpc.newBlockingStub(channel).withInterceptors(bearer(adminToken));
        Experiment submitted = experiments.submit(SubmitExperimentRequest.newBuilder().setSpec(Specs.named("in-process", project)).build()).getExperiment();

        Experiment read = experiments.get(GetExperimentRequest.newBuilder().setId(submitted.getId()).build());
        assertThat(read.getState()).isEqualTo(ExperimentState.PENDING);
        assertThat(read.getSpec()).isEqualTo(new ExperimentSpecValidator().validateAndNormalize(Specs.named("in-process", project)));
    }

    /** A submission while the server shuts down was RESOURCE_EXHAUSTED, as if it were overloaded: it is UNAVAILABLE, saying to submit again. */
    @Test
    void aSubmissionWhileTheServerShutsDownIsUnavailableSayingToSubmitAgain()
    {
        writer.close();
        var experiments = ExperimentServiceGrpc.newBlockingStub(channel).withInterceptors(bearer(adminToken));
        assertThatThrownBy(() -> experiments.submit(SubmitExperimentRequest.newBuilder().setSpec(Specs.named("late", "default")).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                    assertThat(e.getStatus().getDescription())
                            .isEqualTo("the scheduler is shutting down and takes no new submissions; nothing was stored, submit again in a moment");
                });
    }

    @Test
    void everyServiceIsBehindAuthenticationAndTheRequestGuard()
    {
        var anonymous = ExperimentServiceGrpc.newBlockingStub(channel);
        assertThatThrownBy(() -> anonymous.submit(SubmitExperimentRequest.newBuilder().setSpec(Specs.example()).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
        var admin = ExperimentServiceGrpc.newBlockingStub(channel).withInterceptors(bearer(adminToken));
        // the guard refuses control characters in text fields before any service sees them
        assertThatThrownBy(() -> admin.get(GetExperimentRequest.newBuilder().setId("exp-\u0000").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
        assertThat(HealthGrpc.newBlockingStub(channel).withInterceptors(bearer(adminToken)).check(HealthCheckRequest.getDefaultInstance()).getStatus())
                .isEqualTo(ServingStatus.SERVING);
    }

    /**
     * Each export holds a stream, a temporary file behind the HTTP route and database pages while it
     * runs; a caller who opens exports and never reads them must not take the server's threads, so
     * a few run at once and the next is refused with why, until one ends (here: its client leaves).
     */
    @Test
    void historyExportsRunAFewAtOnceAndASlotFreesWhenItsClientLeaves()
    {
        List<Stalled> stalled = new java.util.ArrayList<>();
        for (int i = 0; i < MAX_CONCURRENT_EXPORTS; i++) {
            stalled.add(stalledExport());
        }
        var admin = ExperimentServiceGrpc.newBlockingStub(channel).withInterceptors(bearer(adminToken));
        Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            // calls are served concurrently: one that lost its place to an earlier try below is opened again
            for (int i = 0; i < stalled.size(); i++) {
                if (stalled.get(i).error().get() != null) {
                    stalled.set(i, stalledExport());
                }
            }
            assertThatThrownBy(() -> admin.exportHistory(ExportHistoryRequest.getDefaultInstance()).hasNext())
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
                        assertThat(e.getStatus().getDescription()).isEqualTo("at most " + MAX_CONCURRENT_EXPORTS
                                + " history exports run at once on this server; try again when one has finished");
                    });
        });

        stalled.get(0).call().cancel("the client left", null);
        Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            Iterator<HistoryJob> jobs = admin.exportHistory(ExportHistoryRequest.getDefaultInstance());
            assertThat(jobs.hasNext()).isFalse();
        });
        // an export that ended gave its slot back: the next runs too
        assertThat(admin.exportHistory(ExportHistoryRequest.getDefaultInstance()).hasNext()).isFalse();
        stalled.forEach(export -> export.call().cancel("done", null));
    }

    /**
     * A client that opens exports and reads nothing must not keep exports from everyone else for
     * good: once a slot is wanted, the export whose client has read nothing for the longest, past a
     * minute, ends with why and gives its place to the one that waits.
     */
    @Test
    void anExportWhoseClientReadsNothingForAMinuteGivesItsPlaceToOneThatWaits()
    {
        List<Stalled> stalled = new java.util.ArrayList<>();
        for (int i = 0; i < MAX_CONCURRENT_EXPORTS; i++) {
            stalled.add(stalledExport());
        }
        var admin = ExperimentServiceGrpc.newBlockingStub(channel).withInterceptors(bearer(adminToken));
        // all places taken, by clients that read nothing yet: within the minute the next is refused
        Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThatThrownBy(() -> admin.exportHistory(ExportHistoryRequest.getDefaultInstance()).hasNext())
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED)));

        clock.advance(ExperimentGrpcService.EXPORT_STALL);
        assertThat(admin.exportHistory(ExportHistoryRequest.getDefaultInstance()).hasNext()).isFalse();
        // exactly one stalled export was ended, and told why
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> stalled.stream().anyMatch(export -> export.error().get() != null));
        assertThat(stalled).filteredOn(export -> export.error().get() != null).singleElement().satisfies(export -> {
            Status status = Status.fromThrowable(export.error().get());
            assertThat(status.getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
            assertThat(status.getDescription()).isEqualTo("the client read nothing of this history export for 60 s while another export waited for its place; export again");
        });
        stalled.forEach(export -> export.call().cancel("done", null));
    }

    /**
     * Each watch holds a subscription and a queue of events; one token may hold a bounded number at
     * once (another token is not affected), and a watch that ends gives its place back.
     */
    @Test
    void oneTokenHoldsABoundedNumberOfWatchesAndAnEndedWatchGivesItsPlaceBack()
    {
        String project = "watched-" + UUID.randomUUID().toString().substring(0, 8);
        AdminServiceGrpc.newBlockingStub(channel).withInterceptors(bearer(adminToken))
                .createProject(CreateProjectRequest.newBuilder().setProject(Project.newBuilder().setName(project)).build());
        String id = ExperimentServiceGrpc.newBlockingStub(channel).withInterceptors(bearer(adminToken))
                .submit(SubmitExperimentRequest.newBuilder().setSpec(Specs.named("watched", project)).build()).getExperiment().getId();
        WatchExperimentsRequest one = WatchExperimentsRequest.newBuilder().setId(id).build();

        List<Watch> open = new java.util.ArrayList<>();
        for (int i = 0; i < MAX_WATCHES_PER_CALLER; i++) {
            // one at a time, each holding its place before the next is asked for (the server serves
            // calls concurrently): a watch of one experiment answers at once with its current state
            Watch held = watch(adminToken, one);
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> !held.events.isEmpty() || held.error.get() != null);
            open.add(held);
        }
        Watch refused = watch(adminToken, one);
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> refused.error.get() != null);
        Status status = Status.fromThrowable(refused.error.get());
        assertThat(status.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(status.getDescription()).isEqualTo("at most " + MAX_WATCHES_PER_CALLER
                + " watches may be open at once with one token; close one (each dashboard tab holds one) and watch again");
        assertThat(open).allSatisfy(watch -> assertThat(watch.error.get()).isNull());

        String otherToken = tokens.issue("test", "other-" + UUID.randomUUID(), Role.ADMIN, List.of(), Optional.empty()).secret();
        Watch other = watch(otherToken, one);
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> !other.events.isEmpty());
        assertThat(other.events.get(0).getExperiment().getId()).isEqualTo(id);

        open.get(0).call.cancel("the tab closed", null);
        Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            Watch again = watch(adminToken, one);
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> !again.events.isEmpty() || again.error.get() != null);
            assertThat(again.error.get()).isNull();
            assertThat(again.events.get(0).getExperiment().getId()).isEqualTo(id);
            again.call.cancel("done", null);
        });
        open.forEach(watch -> watch.call.cancel("done", null));
        other.call.cancel("done", null);
    }

    /**
     * A watch that fails after taking its place (here: the experiment's history cannot be read) gives
     * the place back: a token is not locked out of watching after its limit of such failures.
     */
    @Test
    void aWatchThatFailsWhileReadingTheExperimentGivesItsPlaceBack()
    {
        String project = "failing-" + UUID.randomUUID().toString().substring(0, 8);
        AdminServiceGrpc.newBlockingStub(channel).withInterceptors(bearer(adminToken))
                .createProject(CreateProjectRequest.newBuilder().setProject(Project.newBuilder().setName(project)).build());
        String id = ExperimentServiceGrpc.newBlockingStub(channel).withInterceptors(bearer(adminToken))
                .submit(SubmitExperimentRequest.newBuilder().setSpec(Specs.named("watched", project)).build()).getExperiment().getId();
        WatchExperimentsRequest one = WatchExperimentsRequest.newBuilder().setId(id).build();

        store.historyFails = true;
        for (int i = 0; i <= MAX_WATCHES_PER_CALLER; i++) {
            Watch failed = watch(adminToken, one);
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> failed.error.get() != null);
            Status status = Status.fromThrowable(failed.error.get());
            assertThat(status.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        }
        store.historyFails = false;
        Watch again = watch(adminToken, one);
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> !again.events.isEmpty() || again.error.get() != null);
        assertThat(again.error.get()).isNull();
        assertThat(again.events.get(0).getExperiment().getId()).isEqualTo(id);
        again.call.cancel("done", null);
    }

    /**
     * A project watch starts with every active experiment, oldest first, however many there are: a
     * backlog past one page of the store (1000) lost its oldest from the dashboard's first list.
     */
    @Test
    void aProjectWatchStartsWithEveryActiveExperimentPastOnePage()
    {
        String project = newProject("backlog-");
        List<String> ids = backlog(project, 1001);

        Watch all = watch(adminToken, WatchExperimentsRequest.newBuilder().setProject(project).build());
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> all.events.size() >= ids.size() || all.error.get() != null);
        assertThat(all.error.get()).isNull();
        assertThat(all.events).allSatisfy(event -> assertThat(event.hasTransition()).isFalse());
        assertThat(all.events).extracting(event -> event.getExperiment().getId()).containsExactlyElementsOf(ids);
        // then every change, once
        ExperimentServiceGrpc.newBlockingStub(channel).withInterceptors(bearer(adminToken))
                .cancel(dev.tranche.proto.v1.CancelExperimentRequest.newBuilder().setId(ids.get(0)).build());
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> all.events.size() > ids.size());
        assertThat(all.events.get(ids.size()).getTransition().getTo()).isEqualTo(ExperimentState.CANCELLED);
        all.call.cancel("done", null);
    }

    /**
     * A first list longer than a watch's queue (10,000 events) is read a page at a time as the client
     * takes it, so a client that reads slowly gets all of it rather than being told it fell behind.
     */
    @Test
    void aFirstListLongerThanTheWatchQueueReachesAClientThatReadsSlowly()
    {
        String project = newProject("long-");
        List<String> ids = backlog(project, 10_500);

        Watch slow = watch(adminToken, WatchExperimentsRequest.newBuilder().setProject(project).build(), 0);
        // time for a server that did not wait for the client to overrun the queue
        Awaitility.await().pollDelay(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(2)).until(() -> true);
        assertThat(slow.error.get()).isNull();
        assertThat(slow.events).isEmpty();
        Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> {
            slow.call.request(500);
            return slow.events.size() >= ids.size() || slow.error.get() != null;
        });
        assertThat(slow.error.get()).isNull();
        assertThat(slow.events).extracting(event -> event.getExperiment().getId()).containsExactlyElementsOf(ids);
        slow.call.cancel("done", null);
    }

    private String newProject(String prefix)
    {
        String project = prefix + UUID.randomUUID().toString().substring(0, 8);
        AdminServiceGrpc.newBlockingStub(channel).withInterceptors(bearer(adminToken))
                .createProject(CreateProjectRequest.newBuilder().setProject(Project.newBuilder().setName(project)).build());
        return project;
    }

    /** {@code count} pending experiments of the project (it has no nodes: they stay pending), stored at once; their ids oldest first. */
    private List<String> backlog(String project, int count)
    {
        ExperimentSpec spec = ExperimentSpecs.fromRequest(Specs.named("queued", project));
        String prefix = "exp-" + UUID.randomUUID().toString().substring(0, 6);
        List<ExperimentStore.NewExperiment> batch = new java.util.ArrayList<>();
        for (int i = 0; i < count; i++) {
            batch.add(new ExperimentStore.NewExperiment(prefix + i, spec, Optional.empty(), "submitted; waiting for the scheduler"));
        }
        return store.insertAll(batch).stream()
                .map(ExperimentStore.Inserted::experiment)
                .sorted(java.util.Comparator.comparingLong(ExperimentRecord::sequence))
                .map(ExperimentRecord::id)
                .toList();
    }

    /** The real repository, whose history reads fail while {@code historyFails} is set (as when the database drops). */
    private static final class FailingHistory
            implements ExperimentStore
    {
        private final ExperimentStore delegate;
        volatile boolean historyFails;

        FailingHistory(ExperimentStore delegate)
        {
            this.delegate = delegate;
        }

        @Override
        public List<Transition> history(String id)
        {
            if (historyFails) {
                throw new StoreException("could not read the history of " + id, new java.sql.SQLTransientConnectionException("connection lost", "08006"));
            }
            return delegate.history(id);
        }

        @Override
        public Inserted insert(String id, ExperimentSpec spec, Optional<String> requestId, String reason)
        {
            return delegate.insert(id, spec, requestId, reason);
        }

        @Override
        public List<Inserted> insertAll(List<NewExperiment> batch)
        {
            return delegate.insertAll(batch);
        }

        @Override
        public Optional<ExperimentRecord> find(String id)
        {
            return delegate.find(id);
        }

        @Override
        public ExperimentPage list(ExperimentQuery query)
        {
            return delegate.list(query);
        }

        @Override
        public List<ExperimentRecord> listOldestFirst(Optional<Set<String>> projects, Set<dev.tranche.scheduler.experiment.ExperimentState> states, long afterSequence, int limit)
        {
            return delegate.listOldestFirst(projects, states, afterSequence, limit);
        }

        @Override
        public List<FinishedRun> finishedRuns(Instant since, Instant until, Optional<Set<String>> projects, long afterSequence, int limit)
        {
            return delegate.finishedRuns(since, until, projects, afterSequence, limit);
        }

        @Override
        public ExperimentChange transition(String id, Set<dev.tranche.scheduler.experiment.ExperimentState> from, dev.tranche.scheduler.experiment.ExperimentState to,
                String reason)
        {
            return delegate.transition(id, from, to, reason);
        }
    }

    /** An export whose client reads nothing: it waits for the client and keeps its place. */
    private record Stalled(ClientCallStreamObserver<ExportHistoryRequest> call, AtomicReference<Throwable> error) {}

    private Stalled stalledExport()
    {
        AtomicReference<Throwable> error = new AtomicReference<>();
        AtomicReference<ClientCallStreamObserver<ExportHistoryRequest>> call = new AtomicReference<>();
        ExperimentServiceGrpc.newStub(channel).withInterceptors(bearer(adminToken)).exportHistory(ExportHistoryRequest.getDefaultInstance(),
                new ClientResponseObserver<ExportHistoryRequest, HistoryJob>()
                {
                    @Override
                    public void beforeStart(ClientCallStreamObserver<ExportHistoryRequest> requestStream)
                    {
                        requestStream.disableAutoRequestWithInitial(0);
                        call.set(requestStream);
                    }

                    @Override
                    public void onNext(HistoryJob job) {}

                    @Override
                    public void onError(Throwable t)
                    {
                        error.set(t);
                    }

                    @Override
                    public void onCompleted() {}
                });
        return new Stalled(call.get(), error);
    }

    /** An open watch as its client sees it. */
    private record Watch(ClientCallStreamObserver<WatchExperimentsRequest> call, List<ExperimentEvent> events, AtomicReference<Throwable> error) {}

    private Watch watch(String token, WatchExperimentsRequest request)
    {
        return watch(token, request, -1);
    }

    /** A watch whose client asks for {@code initialEvents} events and then only as the test asks (-1: as they come). */
    private Watch watch(String token, WatchExperimentsRequest request, int initialEvents)
    {
        List<ExperimentEvent> events = new java.util.concurrent.CopyOnWriteArrayList<>();
        AtomicReference<Throwable> error = new AtomicReference<>();
        AtomicReference<ClientCallStreamObserver<WatchExperimentsRequest>> call = new AtomicReference<>();
        ExperimentServiceGrpc.newStub(channel).withInterceptors(bearer(token)).watch(request, new ClientResponseObserver<WatchExperimentsRequest, ExperimentEvent>()
        {
            @Override
            public void beforeStart(ClientCallStreamObserver<WatchExperimentsRequest> requestStream)
            {
                if (initialEvents >= 0) {
                    requestStream.disableAutoRequestWithInitial(initialEvents);
                }
                call.set(requestStream);
            }

            @Override
            public void onNext(ExperimentEvent event)
            {
                events.add(event);
            }

            @Override
            public void onError(Throwable t)
            {
                error.set(t);
            }

            @Override
            public void onCompleted() {}
        });
        return new Watch(call.get(), events, error);
    }

    private <T extends AutoCloseable> T track(T part)
    {
        parts.add(part);
        return part;
    }

    private static io.grpc.ClientInterceptor bearer(String token)
    {
        Metadata headers = new Metadata();
        headers.put(AuthInterceptor.AUTHORIZATION, "Bearer " + token);
        return MetadataUtils.newAttachHeadersInterceptor(headers);
    }
}

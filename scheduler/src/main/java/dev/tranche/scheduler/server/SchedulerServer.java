package dev.tranche.scheduler.server;

import dev.tranche.scheduler.backend.kubernetes.KubernetesInventory;
import dev.tranche.scheduler.backend.SchedulerTrust;
import dev.tranche.scheduler.backend.WorkerLogs;
import dev.tranche.scheduler.backend.local.LocalProcessBackend;
import dev.tranche.scheduler.backend.kubernetes.KubernetesLauncher;
import dev.tranche.scheduler.backend.kubernetes.KubernetesSettings;
import dev.tranche.scheduler.core.Ordering;
import dev.tranche.scheduler.core.SchedulingCycle;
import dev.tranche.scheduler.core.SchedulingOptions;
import dev.tranche.scheduler.core.placement.PlacementPolicies;
import dev.tranche.scheduler.experiment.ExperimentEventBus;
import dev.tranche.scheduler.experiment.DatasetRoots;
import dev.tranche.scheduler.experiment.ExperimentManager;
import dev.tranche.scheduler.experiment.SubmissionWriter;
import dev.tranche.scheduler.execution.ExecutionController;
import dev.tranche.scheduler.execution.ExecutionLoop;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import dev.tranche.scheduler.http.HttpApi;
import dev.tranche.scheduler.project.ProjectManager;
import dev.tranche.scheduler.service.AdminGrpcService;
import dev.tranche.scheduler.service.ExperimentGrpcService;
import dev.tranche.scheduler.service.MetricsGrpcService;
import dev.tranche.scheduler.metrics.WorkerCredentials;
import dev.tranche.scheduler.scheduling.SchedulingLoop;
import dev.tranche.scheduler.store.ClusterRepository;
import dev.tranche.scheduler.store.GangPortRepository;
import dev.tranche.scheduler.service.GrpcServices;
import dev.tranche.scheduler.store.Database;
import dev.tranche.scheduler.store.PlacementWriter;
import dev.tranche.scheduler.store.EmbeddedPostgresServer;
import dev.tranche.scheduler.store.ExperimentRepository;
import dev.tranche.scheduler.store.MetricsRepository;
import dev.tranche.scheduler.store.ProjectRepository;
import dev.tranche.scheduler.store.UsageRepository;
import dev.tranche.scheduler.usage.UsageRecorder;
import dev.tranche.scheduler.store.SecretRepository;
import dev.tranche.scheduler.store.AuditRepository;
import dev.tranche.scheduler.store.TokenRepository;
import dev.tranche.scheduler.security.AccessPolicy;
import dev.tranche.scheduler.security.AuditLog;
import dev.tranche.scheduler.security.AuthInterceptor;
import dev.tranche.scheduler.security.FailedAuthentications;
import dev.tranche.scheduler.security.IssuedToken;
import dev.tranche.scheduler.security.RateLimiter;
import dev.tranche.scheduler.security.Role;
import dev.tranche.scheduler.security.SecuritySettings;
import dev.tranche.scheduler.security.TlsMaterial;
import dev.tranche.scheduler.security.TokenSecrets;
import dev.tranche.scheduler.security.TokenService;
import dev.tranche.scheduler.service.AuthGrpcService;
import dev.tranche.scheduler.telemetry.SchedulerMetrics;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import javax.net.ssl.SSLException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static java.util.Objects.requireNonNull;

/**
 * The scheduler process's composition root: builds every part from its constructor, starts the
 * database, gRPC (with health and reflection) and HTTP, and takes them down in reverse order.
 */
public final class SchedulerServer
        implements AutoCloseable
{
    private static final Logger log = LoggerFactory.getLogger(SchedulerServer.class);
    private static final int MAX_REQUEST_BYTES = 4 * 1024 * 1024;
    private static final int MAX_METADATA_BYTES = 16 * 1024;
    private static final int AUDIT_QUEUE = 10_000;
    // Two writers: one gathers the next batch while the other waits for its commit.
    private static final int WRITER_THREADS = 2;
    private static final int MAX_SUBMISSION_BATCH = 256;
    private static final int MAX_QUEUED_SUBMISSIONS = 10_000;
    private static final String LOCAL_WORKER_HOST = "127.0.0.1";
    private static final Duration AUTH_SUMMARY_INTERVAL = Duration.ofSeconds(10);
    // the Usage page's resolution: one sample a minute (the store keeps one per minute at most)
    private static final Duration USAGE_SAMPLE_INTERVAL = Duration.ofMinutes(1);
    /**
     * The cycle the server runs by default, with the given placement policy: {@code tranche simulate
     * --policy tranche} replays through this very configuration.
     */
    public static SchedulingCycle productionCycle(String placementPolicy)
    {
        return productionCycle(placementPolicy, SchedulingSettings.DEFAULTS);
    }

    static SchedulingCycle productionCycle(String placementPolicy, SchedulingSettings settings)
    {
        // the core counts age in whatever unit it is given; the loop gives seconds waited
        return new SchedulingCycle(PlacementPolicies.byName(placementPolicy), SchedulingOptions.defaults().withStarvationAge(settings.starvationAge().toSeconds()),
                Ordering.production());
    }

    /** What the running server answers for: its endpoints, and the parts tests and the demo reach into. */
    private record Handles(Server grpc, HttpApi http, WorkerCredentials credentials, TokenService tokens, AuditLog auditLog,
            Optional<LocalProcessBackend> localBackend, SchedulingLoop schedulingLoop, UsageRecorder usageRecorder)
    {
        Handles
        {
            requireNonNull(grpc, "grpc is null");
            requireNonNull(http, "http is null");
            requireNonNull(credentials, "credentials is null");
            requireNonNull(tokens, "tokens is null");
            requireNonNull(auditLog, "auditLog is null");
            requireNonNull(localBackend, "localBackend is null");
            requireNonNull(schedulingLoop, "schedulingLoop is null");
            requireNonNull(usageRecorder, "usageRecorder is null");
        }
    }

    private final SchedulerConfig config;
    private final Handles handles;
    private final Stops stops;
    private final AtomicBoolean closed = new AtomicBoolean();

    private SchedulerServer(SchedulerConfig config, Handles handles, Stops stops)
    {
        this.config = requireNonNull(config, "config is null");
        this.handles = requireNonNull(handles, "handles is null");
        this.stops = requireNonNull(stops, "stops is null");
    }

    public static SchedulerServer start(SchedulerConfig config)
    {
        return start(config, Clock.systemUTC());
    }

    /**
     * With the clock tokens expire and audit events are stamped by (tests move it instead of sleeping).
     * Every part is registered with {@link Stops} as it starts, so a failure anywhere stops exactly
     * what had started (an embedded PostgreSQL above all) and {@link #close} stops it in reverse.
     */
    public static SchedulerServer start(SchedulerConfig config, Clock clock)
    {
        requireNonNull(clock, "clock is null");
        Stops stops = new Stops();
        try {
            stops.add("home lock", HomeLock.acquire(config.home()));
            Database database = stops.add("database", openDatabase(config));
            ExperimentEventBus events = new ExperimentEventBus();
            ExperimentRepository experimentRepository = new ExperimentRepository(database.dataSource());
            SubmissionWriter submissionWriter = stops.add("submission writer",
                    new SubmissionWriter(experimentRepository, WRITER_THREADS, MAX_SUBMISSION_BATCH, MAX_QUEUED_SUBMISSIONS));
            DatasetRoots datasetRoots = config.security().datasetRoots().map(DatasetRoots::new).orElseGet(() -> DatasetRoots.defaults(config.home()));
            ExperimentManager experiments = new ExperimentManager(experimentRepository, submissionWriter, events, datasetRoots);
            ProjectManager projects = new ProjectManager(new ProjectRepository(database.dataSource()));
            ClusterRepository cluster = new ClusterRepository(database.dataSource());
            GangPortRepository gangPorts = new GangPortRepository(database.dataSource());
            SchedulerMetrics telemetry = new SchedulerMetrics();
            stops.add("JVM metrics", telemetry.bindJvmMetrics());
            WorkerCredentials credentials = new WorkerCredentials(new SecretRepository(database.dataSource()).secret(WorkerCredentials.SECRET_NAME));
            AuditLog auditLog = stops.add("audit log", new AuditLog(new AuditRepository(database.dataSource()), AUDIT_QUEUE));
            TokenService tokens = new TokenService(new TokenRepository(database.dataSource()), new TokenSecrets(), credentials, projects::exists, clock);
            SecuritySettings security = config.security();
            FailedAuthentications failures = stops.add("failed-authentication summary", new FailedAuthentications(security.failedAuthenticationsPerSecond(),
                    SecuritySettings.FAILED_AUTHENTICATION_BURST_SECONDS, auditLog, clock, System::nanoTime).summarizeEvery(AUTH_SUMMARY_INTERVAL));
            AuthInterceptor auth = new AuthInterceptor(AccessPolicy.standard(), tokens,
                    new RateLimiter(security.rateLimitPerSecond(), 2 * security.rateLimitPerSecond(), System::nanoTime), auditLog, failures, clock);
            Optional<TlsMaterial> tls = security.tls().map(TlsMaterial::load);
            config.inventory().ifPresent(inventory -> cluster.registerNodes(inventory.nodes()));
            SchedulingSettings pace = config.scheduling();
            // the loop reads and writes on connections of its own: requests never hold up a cycle
            SchedulingLoop schedulingLoop = new SchedulingLoop(new ClusterRepository(database.schedulingDataSource()),
                    new PlacementWriter(database.schedulingDataSource()), events, productionCycle(config.placementPolicy(), pace), telemetry,
                    pace.cycleInterval(), pace.cycleGap(), pace.lineWindow());

            AtomicInteger watchThreads = new AtomicInteger();
            ExecutorService watchExecutor = Executors.newCachedThreadPool(runnable -> {
                Thread thread = new Thread(runnable, "tranche-watch-" + watchThreads.incrementAndGet());
                thread.setDaemon(true);
                return thread;
            });
            stops.add("watch threads", watchExecutor, watchExecutor::shutdownNow);
            HealthStatusManager health = new HealthStatusManager();
            // grpc-java's manager starts out SERVING: say so only once the admin token exists (below), or a
            // client that waits for SERVING can call before its token is valid
            health.setStatus("", ServingStatus.NOT_SERVING);
            // the backend is built before the services so that GetLogs reads from it
            // local workers dial 127.0.0.1 and trust the server's own certificate file (self-signed or not)
            SchedulerTrust localTrust = security.tls().map(files -> SchedulerTrust.caFile(files.certificateChain().toAbsolutePath().toString()))
                    .orElse(SchedulerTrust.PLAINTEXT);
            if (config.localWorkerCommand().isPresent() && tls.isPresent() && !tls.get().names(LOCAL_WORKER_HOST)) {
                log.warn("local workers reach the scheduler at {}, which the TLS certificate does not name: their metrics will not arrive; "
                        + "give the certificate the subject alternative name IP:{}", LOCAL_WORKER_HOST, LOCAL_WORKER_HOST);
            }
            Optional<LocalProcessBackend> localBackend = config.localWorkerCommand().map(command -> new LocalProcessBackend(config.home(), command, localTrust));
            KubernetesClient kubernetesClient = config.kubernetes().isPresent() ? new KubernetesClientBuilder().build() : null;
            KubernetesLauncher kubernetesLauncher = config.kubernetes()
                    .map(settings -> new KubernetesLauncher(kubernetesClient, settings.namespace(), settings.workerImage(), settings.checkpointRoot(),
                            settings.workerSchedulerTls(), settings.workerSchedulerCaConfigMap(), pace.preemptionGrace()))
                    .orElse(null);
            WorkerLogs workerLogs = localBackend.isPresent() ? localBackend.get() : kubernetesLauncher != null ? kubernetesLauncher : WorkerLogs.NONE;
            MetricsRepository metricsRepository = new MetricsRepository(database.dataSource());
            UsageRepository usage = new UsageRepository(database.dataSource());
            ExperimentGrpcService experimentService = new ExperimentGrpcService(experiments, metricsRepository, events, watchExecutor, workerLogs,
                    config.security().maxConcurrentExports(), config.security().maxWatchesPerToken(), clock);
            tokens.onRevoke(experimentService::tokenRevoked);
            GrpcServices services = new GrpcServices(List.of(
                    experimentService,
                    new AdminGrpcService(projects, cluster, usage, clock),
                    new MetricsGrpcService(experiments, metricsRepository, credentials, events),
                    new AuthGrpcService(tokens, auditLog)), health, auth);
            Server grpc = startGrpc(config, tls, services, telemetry);
            stops.add("gRPC server", grpc, () -> stopGrpc(grpc, config, experimentService));
            // the HTTP API calls the same services in-process
            String internalName = "tranche-internal-" + UUID.randomUUID();
            Server internal = start(services.addTo(InProcessServerBuilder.forName(internalName).maxInboundMessageSize(MAX_REQUEST_BYTES)),
                    "the in-process gRPC server");
            stops.add("in-process gRPC server", internal, internal::shutdownNow);
            ManagedChannel internalChannel = InProcessChannelBuilder.forName(internalName).build();
            stops.add("in-process gRPC channel", internalChannel, internalChannel::shutdownNow);
            HttpApi http = stops.add("HTTP server", new HttpApi(config.bindAddress(), config.httpPort(), tls, internalChannel, database::unavailable, telemetry,
                    tokens, auditLog, failures, clock, config.home()).start());
            schedulingLoop.start();
            stops.add("scheduling loop", schedulingLoop);
            UsageRecorder usageRecorder = new UsageRecorder(usage, USAGE_SAMPLE_INTERVAL, config.usageRetention(),
                    sample -> sample.forEach(project -> telemetry.recordProjectUsage(project.project(), project.heldMilli(), project.deservedMilli())));
            usageRecorder.start();
            stops.add("usage recorder", usageRecorder);
            if (kubernetesLauncher != null) {
                stops.add("Kubernetes execution",
                        startKubernetes(kubernetesClient, kubernetesLauncher, cluster, experimentRepository, events, credentials, config.kubernetes().get(), gangPorts,
                                pace.preemptionGrace(), pace.startTimeout(), clock));
            }
            if (localBackend.isPresent()) {
                ExecutionController controller = new ExecutionController(localBackend.get(),
                        cluster, experimentRepository, events, credentials, LOCAL_WORKER_HOST + ":" + grpc.getPort(), pace.preemptionGrace(), node -> true, gangPorts, Optional.of(datasetRoots),
                        pace.startTimeout(), clock);
                stops.add("local execution", new ExecutionLoop(controller, Duration.ofSeconds(1)));
            }
            // last, once both ports listen and everything runs: a start that fails before this (a port in
            // use) must not store a first admin token it never gets to show, which would lock the admin out
            Optional<String> firstAdminToken = tokens.ensureAdmin(config.security().adminToken());
            health.setStatus("", ServingStatus.SERVING);
            // stopped first: load balancers and clients that watch health stop sending before anything stops
            stops.add("health service", health, health::enterTerminalState);
            SchedulerServer server = new SchedulerServer(config,
                    new Handles(grpc, http, credentials, tokens, auditLog, localBackend, schedulingLoop, usageRecorder), stops);
            firstAdminToken.ifPresent(SchedulerServer::announceAdminToken);
            log.info("Tranche scheduler ready: gRPC on {}:{}, HTTP on {}:{}, database: {}", config.bindAddress(), server.grpcPort(),
                    config.bindAddress(), server.httpPort(), database.description());
            return server;
        }
        catch (RuntimeException | Error e) {
            stops.close();
            throw e;
        }
    }

    private static Server startGrpc(SchedulerConfig config, Optional<TlsMaterial> tls, GrpcServices services, SchedulerMetrics telemetry)
    {
        NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress(config.bindAddress(), config.grpcPort()))
                .maxInboundMessageSize(MAX_REQUEST_BYTES)
                .maxInboundMetadataSize(MAX_METADATA_BYTES)
                // telemetry counts every call, refused ones too
                .intercept(telemetry.grpcInterceptor());
        services.addTo(builder);
        if (tls.isPresent()) {
            try {
                builder.sslContext(GrpcSslContexts.configure(SslContextBuilder.forServer(tls.get().privateKey(), tls.get().chain())).build());
            }
            catch (SSLException e) {
                throw new IllegalArgumentException("cannot use the TLS certificate and key: " + e.getMessage(), e);
            }
        }
        else if (!isLoopback(config.bindAddress())) {
            log.warn("serving on {} without TLS: tokens cross the network in the clear; give --tls-cert and --tls-key", config.bindAddress());
        }
        try {
            return builder.build().start();
        }
        catch (IOException e) {
            throw new UncheckedIOException("cannot listen for gRPC on " + config.bindAddress() + ":" + config.grpcPort()
                    + " (is another scheduler running? use --grpc-port)", e);
        }
    }

    private static Server start(ServerBuilder<?> builder, String what)
    {
        try {
            return builder.build().start();
        }
        catch (IOException e) {
            throw new UncheckedIOException("cannot start " + what, e);
        }
    }

    /** Stops taking calls, ends watches, lets running calls finish within the grace period, then stops the rest. */
    private static void stopGrpc(Server grpc, SchedulerConfig config, ExperimentGrpcService experimentService)
            throws InterruptedException
    {
        grpc.shutdown();
        experimentService.endWatches();
        if (!grpc.awaitTermination(config.shutdownGrace().toMillis(), TimeUnit.MILLISECONDS)) {
            grpc.shutdownNow();
            grpc.awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    /** The Kubernetes backend: the cluster's nodes as the inventory (kept current by a watch), workers as pods. */
    private static AutoCloseable startKubernetes(KubernetesClient client, KubernetesLauncher launcher, ClusterRepository cluster, ExperimentRepository experiments,
            ExperimentEventBus events, WorkerCredentials credentials, KubernetesSettings settings, GangPortRepository gangPorts, Duration grace,
            Duration startTimeout, Clock clock)
    {
        KubernetesInventory inventory = new KubernetesInventory(client, settings.namespace());
        Set<String> liveNodes = ConcurrentHashMap.newKeySet();
        List<dev.tranche.scheduler.core.model.Node> nodes = inventory.discover();
        nodes.forEach(node -> liveNodes.add(node.name()));
        cluster.registerNodes(nodes);
        inventory.watch(current -> {
            cluster.registerNodes(current);
            liveNodes.retainAll(current.stream().map(dev.tranche.scheduler.core.model.Node::name).toList());
            current.forEach(node -> liveNodes.add(node.name()));
        });
        ExecutionController controller = new ExecutionController(launcher,
                cluster, experiments, events, credentials, settings.schedulerAddress(), grace, liveNodes::contains, gangPorts, Optional.empty(), startTimeout, clock);
        ExecutionLoop loop = new ExecutionLoop(controller, Duration.ofSeconds(1));
        log.info("running workers as pods in namespace {} (image {}), {} nodes in the inventory", settings.namespace(), settings.workerImage(), nodes.size());
        return () -> {
            loop.close();
            inventory.close();
            client.close();
        };
    }

    /** The first start's admin token, shown once on the console (never in the log file). */
    private static void announceAdminToken(String secret)
    {
        System.out.println();
        System.out.println("  Admin token (shown once; keep it safe, e.g. in a password manager):");
        System.out.println();
        System.out.println("    " + secret);
        System.out.println();
        System.out.println("  Use it with: export TRANCHE_TOKEN=<token>  or  tranche login");
        System.out.println("  Create tokens for your users with: tranche token create --subject NAME --role member --project PROJECT");
        System.out.println();
        System.out.flush();
    }

    private static boolean isLoopback(String address)
    {
        return address.equals("127.0.0.1") || address.equals("localhost") || address.equals("::1") || address.startsWith("127.");
    }

    private static Database openDatabase(SchedulerConfig config)
    {
        if (config.databaseUrl().isPresent()) {
            String url = config.databaseUrl().get();
            return Database.connect(url, config.databaseUser(), config.databasePassword(), config.databasePoolSize(), Optional.empty(),
                    SchedulerConfig.redact(url));
        }
        return Database.openEmbedded(config.home(), config.databasePoolSize());
    }

    public int grpcPort()
    {
        return handles.grpc().getPort();
    }

    public int httpPort()
    {
        return handles.http().port();
    }

    /** Every gRPC method served, by full name (the authorization matrix test covers each). */
    public List<String> grpcMethods()
    {
        return handles.grpc().getServices().stream()
                .flatMap(service -> service.getMethods().stream())
                .map(method -> method.getMethodDescriptor().getFullMethodName())
                .sorted()
                .toList();
    }

    /** Every HTTP route served, as "METHOD /path". */
    public List<String> httpRoutes()
    {
        return handles.http().registeredRoutes();
    }

    public SchedulerConfig config()
    {
        return config;
    }

    /** Issues the credential a worker of {@code experimentId} reports with (the execution backend hands it over). */
    public String workerCredential(String experimentId)
    {
        return handles.credentials().issue(experimentId);
    }

    /** A new token, as an admin would create it: for the demo and tests. */
    public IssuedToken issueToken(String subject, Role role, List<String> projects)
    {
        return handles.tokens().issue("scheduler", subject, role, projects, Optional.empty());
    }

    /** Waits until every audit event so far is in the database (tests). */
    public void flushAudit()
    {
        handles.auditLog().flush();
    }

    /** Stops every local worker (SIGTERM, then a kill after {@code grace}): for the demo, which takes its workers with it. */
    public void stopLocalWorkers(Duration grace)
    {
        handles.localBackend().ifPresent(backend -> backend.stopAllAndWait(grace));
    }

    /** The loop, so tests can run a cycle when they choose. */
    public SchedulingLoop schedulingLoop()
    {
        return handles.schedulingLoop();
    }

    public void awaitTermination()
            throws InterruptedException
    {
        handles.grpc().awaitTermination();
    }

    /** Records a usage sample now rather than at the next minute (tests; the recorder samples on its own). */
    public void sampleUsage()
    {
        handles.usageRecorder().sample();
    }

    /**
     * Stops taking calls (health says NOT_SERVING first), lets running calls finish within the grace
     * period, then stops every part in the reverse of the order it started; a second call does nothing.
     */
    @Override
    public void close()
    {
        if (closed.getAndSet(true)) {
            return;
        }
        log.info("Tranche scheduler shutting down");
        stops.close();
        log.info("Tranche scheduler stopped");
    }
}

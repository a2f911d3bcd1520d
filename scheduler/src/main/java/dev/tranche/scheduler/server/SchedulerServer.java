package dev.tranche.scheduler.server;

import dev.tranche.scheduler.core.SchedulingCycle;
import dev.tranche.scheduler.core.SchedulingOptions;
import dev.tranche.scheduler.core.placement.PlacementPolicies;
import dev.tranche.scheduler.experiment.ExperimentEventBus;
import dev.tranche.scheduler.experiment.ExperimentManager;
import dev.tranche.scheduler.experiment.SubmissionWriter;
import dev.tranche.scheduler.http.StatusHttpServer;
import dev.tranche.scheduler.project.ProjectManager;
import dev.tranche.scheduler.service.AdminGrpcService;
import dev.tranche.scheduler.service.ExperimentGrpcService;
import dev.tranche.scheduler.scheduling.SchedulingLoop;
import dev.tranche.scheduler.scheduling.SpecTranslator;
import dev.tranche.scheduler.store.ClusterRepository;
import dev.tranche.scheduler.store.Database;
import dev.tranche.scheduler.store.PlacementWriter;
import dev.tranche.scheduler.store.EmbeddedPostgresServer;
import dev.tranche.scheduler.store.ExperimentRepository;
import dev.tranche.scheduler.store.ProjectRepository;
import dev.tranche.spec.ExperimentSpecValidator;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The scheduler process's composition root: builds every part from its constructor, starts the
 * database, gRPC (with health and reflection) and HTTP, and takes them down in reverse order.
 */
public final class SchedulerServer
        implements AutoCloseable
{
    private static final Logger log = LoggerFactory.getLogger(SchedulerServer.class);
    private static final int MAX_REQUEST_BYTES = 4 * 1024 * 1024;
    // Two writers: one gathers the next batch while the other waits for its commit.
    private static final int WRITER_THREADS = 2;
    private static final int MAX_SUBMISSION_BATCH = 256;
    private static final int MAX_QUEUED_SUBMISSIONS = 10_000;
    private static final Duration CYCLE_INTERVAL = Duration.ofSeconds(1);
    private static final Duration CYCLE_MINIMUM_GAP = Duration.ofMillis(200);
    private static final int MAX_PENDING_PER_CYCLE = 100_000;
    // The core counts age in whatever unit it is given; the loop gives seconds waited.
    private static final long STARVATION_SECONDS = 300;

    private final SchedulerConfig config;
    private final HomeLock homeLock;
    private final Database database;
    private final ExecutorService watchExecutor;
    private final SubmissionWriter submissionWriter;
    private final SchedulingLoop schedulingLoop;
    private final HealthStatusManager health;
    private final ExperimentGrpcService experimentService;
    private final Server grpc;
    private final StatusHttpServer http;
    private final AtomicBoolean closed = new AtomicBoolean();

    private SchedulerServer(SchedulerConfig config, HomeLock homeLock, Database database, ExecutorService watchExecutor,
            SubmissionWriter submissionWriter, SchedulingLoop schedulingLoop, HealthStatusManager health, ExperimentGrpcService experimentService, Server grpc, StatusHttpServer http)
    {
        this.experimentService = experimentService;
        this.submissionWriter = submissionWriter;
        this.schedulingLoop = schedulingLoop;
        this.config = config;
        this.homeLock = homeLock;
        this.database = database;
        this.watchExecutor = watchExecutor;
        this.health = health;
        this.grpc = grpc;
        this.http = http;
    }

    public static SchedulerServer start(SchedulerConfig config)
    {
        HomeLock homeLock = HomeLock.acquire(config.home());
        Database database = null;
        SubmissionWriter submissionWriter = null;
        SchedulingLoop schedulingLoop = null;
        ExecutorService watchExecutor = null;
        Server grpc = null;
        try {
            database = openDatabase(config);
            ExperimentEventBus events = new ExperimentEventBus();
            ExperimentRepository experimentRepository = new ExperimentRepository(database.dataSource());
            submissionWriter = new SubmissionWriter(experimentRepository, WRITER_THREADS, MAX_SUBMISSION_BATCH, MAX_QUEUED_SUBMISSIONS);
            ExperimentManager experiments = new ExperimentManager(experimentRepository, submissionWriter, events, new ExperimentSpecValidator());
            ProjectManager projects = new ProjectManager(new ProjectRepository(database.dataSource()));
            ClusterRepository cluster = new ClusterRepository(database.dataSource());
            config.inventory().ifPresent(inventory -> cluster.registerNodes(inventory.toNodes()));
            SpecTranslator translator = new SpecTranslator();
            SchedulingCycle cycle = new SchedulingCycle(PlacementPolicies.byName(config.placementPolicy()),
                    SchedulingOptions.defaults().withStarvationAge(STARVATION_SECONDS));
            schedulingLoop = new SchedulingLoop(cluster, new PlacementWriter(database.dataSource()), events, cycle, translator, CYCLE_INTERVAL,
                    CYCLE_MINIMUM_GAP, MAX_PENDING_PER_CYCLE);

            AtomicInteger watchThreads = new AtomicInteger();
            watchExecutor = Executors.newCachedThreadPool(runnable -> {
                Thread thread = new Thread(runnable, "tranche-watch-" + watchThreads.incrementAndGet());
                thread.setDaemon(true);
                return thread;
            });
            HealthStatusManager health = new HealthStatusManager();
            ExperimentGrpcService experimentService = new ExperimentGrpcService(experiments, events, watchExecutor);
            grpc = NettyServerBuilder.forAddress(new InetSocketAddress(config.bindAddress(), config.grpcPort()))
                    .maxInboundMessageSize(MAX_REQUEST_BYTES)
                    .addService(experimentService)
                    .addService(new AdminGrpcService(projects, cluster, translator))
                    .addService(health.getHealthService())
                    .addService(ProtoReflectionServiceV1.newInstance())
                    .build();
            try {
                grpc.start();
            }
            catch (IOException e) {
                throw new UncheckedIOException("cannot listen for gRPC on " + config.bindAddress() + ":" + config.grpcPort()
                        + " (is another scheduler running? use --grpc-port)", e);
            }
            StatusHttpServer http = new StatusHttpServer(config.bindAddress(), config.httpPort(), database.dataSource());
            schedulingLoop.start();
            health.setStatus("", ServingStatus.SERVING);
            SchedulerServer server = new SchedulerServer(config, homeLock, database, watchExecutor, submissionWriter, schedulingLoop, health, experimentService, grpc, http);
            log.info("Tranche scheduler ready: gRPC on {}:{}, HTTP on {}:{}, database: {}", config.bindAddress(), server.grpcPort(),
                    config.bindAddress(), server.httpPort(), database.description());
            return server;
        }
        catch (RuntimeException e) {
            if (schedulingLoop != null) {
                schedulingLoop.close();
            }
            if (grpc != null) {
                grpc.shutdownNow();
            }
            if (watchExecutor != null) {
                watchExecutor.shutdownNow();
            }
            if (submissionWriter != null) {
                submissionWriter.close();
            }
            if (database != null) {
                database.close();
            }
            homeLock.close();
            throw e;
        }
    }

    private static Database openDatabase(SchedulerConfig config)
    {
        if (config.databaseUrl().isPresent()) {
            String url = config.databaseUrl().get();
            return Database.connect(url, config.databaseUser(), config.databasePassword(), config.databasePoolSize(), Optional.empty(),
                    SchedulerConfig.redact(url));
        }
        EmbeddedPostgresServer embedded = EmbeddedPostgresServer.start(config.home().resolve("postgres"), config.home().resolve("logs").resolve("postgres.log"));
        return Database.connect(embedded.jdbcUrl(), Optional.empty(), Optional.empty(), config.databasePoolSize(), Optional.of(embedded),
                "embedded PostgreSQL in " + embedded.dataDirectory());
    }

    public int grpcPort()
    {
        return grpc.getPort();
    }

    public int httpPort()
    {
        return http.port();
    }

    public SchedulerConfig config()
    {
        return config;
    }

    /** The loop, so tests can run a cycle when they choose. */
    public SchedulingLoop schedulingLoop()
    {
        return schedulingLoop;
    }

    public void awaitTermination()
            throws InterruptedException
    {
        grpc.awaitTermination();
    }

    /** Stops taking calls, lets running ones finish within the grace period, then stops the rest. */
    @Override
    public void close()
    {
        if (closed.getAndSet(true)) {
            return;
        }
        log.info("Tranche scheduler shutting down");
        health.enterTerminalState();
        schedulingLoop.close();
        http.close();
        grpc.shutdown();
        experimentService.endWatches();
        try {
            if (!grpc.awaitTermination(config.shutdownGrace().toMillis(), TimeUnit.MILLISECONDS)) {
                grpc.shutdownNow();
                grpc.awaitTermination(5, TimeUnit.SECONDS);
            }
        }
        catch (InterruptedException e) {
            grpc.shutdownNow();
            Thread.currentThread().interrupt();
        }
        watchExecutor.shutdownNow();
        submissionWriter.close();
        database.close();
        homeLock.close();
        log.info("Tranche scheduler stopped");
    }
}

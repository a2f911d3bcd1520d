package dev.tranche.scheduler.service;

import dev.tranche.proto.v1.AdminServiceGrpc;
import dev.tranche.proto.v1.CreateProjectRequest;
import dev.tranche.proto.v1.Experiment;
import dev.tranche.proto.v1.ExperimentServiceGrpc;
import dev.tranche.proto.v1.ExperimentState;
import dev.tranche.proto.v1.GetExperimentRequest;
import dev.tranche.proto.v1.Project;
import dev.tranche.proto.v1.SubmitExperimentRequest;
import dev.tranche.scheduler.backend.WorkerLogs;
import dev.tranche.scheduler.experiment.DatasetRoots;
import dev.tranche.scheduler.experiment.ExperimentEventBus;
import dev.tranche.scheduler.experiment.ExperimentManager;
import dev.tranche.scheduler.experiment.SubmissionWriter;
import dev.tranche.scheduler.metrics.WorkerCredentials;
import dev.tranche.scheduler.project.ProjectManager;
import dev.tranche.scheduler.security.AccessPolicy;
import dev.tranche.scheduler.security.AuditLog;
import dev.tranche.scheduler.security.AuthInterceptor;
import dev.tranche.scheduler.security.FailedAuthentications;
import dev.tranche.scheduler.security.RateLimiter;
import dev.tranche.scheduler.security.Role;
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
import dev.tranche.scheduler.testing.Specs;
import dev.tranche.scheduler.testing.TestingDatabase;
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
import io.grpc.stub.MetadataUtils;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The services as the server composes them, served in-process: no Netty, no Jetty, no ports. The
 * store is real (PostgreSQL), since submissions and tokens are what these calls are about.
 */
class GrpcServicesInProcessTest
{
    @RegisterExtension
    static final TestingDatabase DATABASE = new TestingDatabase();

    @TempDir
    Path home;

    private final List<AutoCloseable> parts = new java.util.ArrayList<>();
    private ManagedChannel channel;
    private String adminToken;

    @BeforeEach
    void serve()
            throws Exception
    {
        Clock clock = Clock.systemUTC();
        var dataSource = DATABASE.dataSource();
        ExperimentEventBus events = new ExperimentEventBus();
        ExperimentRepository repository = new ExperimentRepository(dataSource);
        SubmissionWriter writer = track(new SubmissionWriter(repository, 1, 16, 100));
        ExperimentManager experiments = new ExperimentManager(repository, writer, events, DatasetRoots.defaults(home));
        ProjectManager projects = new ProjectManager(new ProjectRepository(dataSource));
        WorkerCredentials credentials = new WorkerCredentials(new SecretRepository(dataSource).secret(WorkerCredentials.SECRET_NAME));
        AuditLog audit = track(new AuditLog(new AuditRepository(dataSource), 100));
        TokenService tokens = new TokenService(new TokenRepository(dataSource), new TokenSecrets(), credentials, projects::exists, clock);
        FailedAuthentications failures = track(new FailedAuthentications(100, 2, audit, clock, System::nanoTime));
        AuthInterceptor auth = new AuthInterceptor(AccessPolicy.standard(), tokens, new RateLimiter(1000, 2000, System::nanoTime), audit, failures, clock);
        ExecutorService watches = Executors.newCachedThreadPool();
        parts.add(watches::shutdownNow);
        MetricsRepository metrics = new MetricsRepository(dataSource);
        HealthStatusManager health = new HealthStatusManager();
        GrpcServices services = new GrpcServices(List.of(
                new ExperimentGrpcService(experiments, metrics, events, watches, WorkerLogs.NONE),
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

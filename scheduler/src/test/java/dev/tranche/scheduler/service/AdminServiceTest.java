package dev.tranche.scheduler.service;

import dev.tranche.client.TrancheClient;
import dev.tranche.proto.v1.GetUsageRequest;
import dev.tranche.proto.v1.GetUsageResponse;
import dev.tranche.proto.v1.Project;
import dev.tranche.proto.v1.ProjectUsageSample;
import dev.tranche.proto.v1.Quota;
import dev.tranche.scheduler.security.Role;
import dev.tranche.scheduler.testing.Specs;
import dev.tranche.scheduler.testing.TestingScheduler;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** AdminService, health, reflection and the HTTP health endpoint, over real loopback connections. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
final class AdminServiceTest
{
    private TestingScheduler scheduler;
    private TrancheClient client;

    @BeforeAll
    void start()
    {
        scheduler = new TestingScheduler();
        client = scheduler.client();
    }

    @AfterAll
    void stop()
    {
        scheduler.close();
    }

    @Test
    void defaultProjectExistsFromTheFirstStart()
    {
        assertThat(client.listProjects()).extracting(Project::getName).contains("default");
    }

    @Test
    void createsProjectsAndRefusesDuplicatesAndBadNames()
    {
        Project created = client.createProject(Project.newBuilder().setName("nlp-team").setDescription("language models").build());
        assertThat(created.getName()).isEqualTo("nlp-team");
        assertThat(created.getQuota().getDeservedGpus()).isZero();
        assertThat(client.listProjects()).extracting(Project::getName).contains("nlp-team");

        assertStatus(() -> client.createProject(Project.newBuilder().setName("nlp-team").build()), Status.Code.ALREADY_EXISTS,
                "project nlp-team already exists");
        assertStatus(() -> client.createProject(Project.newBuilder().setName("NLP Team").build()), Status.Code.INVALID_ARGUMENT,
                "project.name must be lower-case letters, digits and '-'");
        assertStatus(() -> client.createProject(Project.newBuilder().setName("").build()), Status.Code.INVALID_ARGUMENT, "project.name is required");
        assertStatus(() -> client.createProject(Project.newBuilder().setName("with-quota").setQuota(Quota.newBuilder().setDeservedGpus(1)).build()),
                Status.Code.INVALID_ARGUMENT, "project.quota is set with SetQuota");
        assertThat(scheduler.count("SELECT count(*) FROM projects WHERE name = 'with-quota'")).isZero();
    }

    @Test
    void setsAndGetsQuotas()
    {
        client.createProject(Project.newBuilder().setName("quota-team").build());
        Project updated = client.setQuota("quota-team", Quota.newBuilder().setDeservedGpus(4).setLimitGpus(8.5).setOverQuotaWeight(2).build());
        assertThat(updated.getQuota().getDeservedGpus()).isEqualTo(4);
        assertThat(updated.getQuota().getLimitGpus()).isEqualTo(8.5);
        assertThat(updated.getQuota().getOverQuotaWeight()).isEqualTo(2);
        assertThat(client.getQuota("quota-team")).isEqualTo(updated.getQuota());

        Quota noLimit = client.setQuota("quota-team", Quota.newBuilder().setDeservedGpus(0.25).build()).getQuota();
        assertThat(noLimit.hasLimitGpus()).isFalse();
        assertThat(noLimit.getOverQuotaWeight()).isEqualTo(1);
    }

    @Test
    void refusesBadQuotasAndKeepsTheOldOne()
    {
        client.createProject(Project.newBuilder().setName("strict-team").build());
        Quota good = client.setQuota("strict-team", Quota.newBuilder().setDeservedGpus(2).setLimitGpus(4).build()).getQuota();
        assertStatus(() -> client.setQuota("strict-team", Quota.newBuilder().setDeservedGpus(4).setLimitGpus(2).build()), Status.Code.INVALID_ARGUMENT,
                "quota.limit_gpus must be at least deserved_gpus (4)");
        assertStatus(() -> client.setQuota("strict-team", Quota.newBuilder().setDeservedGpus(-1).build()), Status.Code.INVALID_ARGUMENT,
                "quota.deserved_gpus must be a number of GPUs, 0 or more: got -1");
        assertStatus(() -> client.setQuota("strict-team", Quota.newBuilder().setDeservedGpus(Double.NaN).build()), Status.Code.INVALID_ARGUMENT,
                "quota.deserved_gpus must be a number of GPUs, 0 or more: got NaN");
        assertStatus(() -> client.setQuota("strict-team", Quota.newBuilder().setDeservedGpus(0.0001).build()), Status.Code.INVALID_ARGUMENT,
                "quota.deserved_gpus must have at most 3 decimals (milli-GPUs): got 0.0001");
        assertStatus(() -> client.setQuota("strict-team", Quota.newBuilder().setDeservedGpus(1).setOverQuotaWeight(0).build()), Status.Code.INVALID_ARGUMENT,
                "quota.over_quota_weight must be in (0, 1000]: got 0");
        assertStatus(() -> client.setQuota("missing-team", Quota.newBuilder().setDeservedGpus(1).build()), Status.Code.NOT_FOUND,
                "project missing-team does not exist");
        assertStatus(() -> client.getQuota("missing-team"), Status.Code.NOT_FOUND, "project missing-team does not exist");
        assertThat(client.getQuota("strict-team")).isEqualTo(good);
    }

    @Test
    void noNodesWithoutAnInventoryAndQuotaUseForEveryProject()
    {
        assertThat(client.listNodes().getNodesList()).isEmpty();
        client.createProject(Project.newBuilder().setName("usage-team").build());
        assertThat(client.listQuotas().getQuotasList()).anySatisfy(usage -> {
            assertThat(usage.getProject()).isEqualTo("usage-team");
            assertThat(usage.getUsedGpus()).isZero();
            assertThat(usage.getPendingGpus()).isZero();
        });
    }

    @Test
    void departmentsHoldProjectsAndTheirOwnQuota()
    {
        client.createDepartment(dev.tranche.proto.v1.Department.newBuilder().setName("platform").setDescription("infra teams").build());
        var updated = client.setDepartmentQuota("platform", Quota.newBuilder().setDeservedGpus(8).setLimitGpus(16).build());
        assertThat(updated.getQuota().getLimitGpus()).isEqualTo(16);
        assertThat(client.listDepartments()).extracting(department -> department.getName()).contains("platform");
        assertStatus(() -> client.createDepartment(dev.tranche.proto.v1.Department.newBuilder().setName("platform").build()), Status.Code.ALREADY_EXISTS,
                "department platform already exists");
        assertStatus(() -> client.setDepartmentQuota("platform", Quota.newBuilder().setDeservedGpus(8).setLimitGpus(4).build()), Status.Code.INVALID_ARGUMENT,
                "quota.limit_gpus must be at least deserved_gpus (8)");
        assertStatus(() -> client.setDepartmentQuota("platform", Quota.newBuilder().setDeservedGpus(1).setOverQuotaWeight(2).build()), Status.Code.INVALID_ARGUMENT,
                "quota.over_quota_weight applies to projects, not departments");
        assertStatus(() -> client.setDepartmentQuota("ghost", Quota.newBuilder().setDeservedGpus(1).build()), Status.Code.NOT_FOUND,
                "department ghost does not exist");
        assertStatus(() -> client.createProject(Project.newBuilder().setName("x").setDepartment("Bad Name").build()), Status.Code.INVALID_ARGUMENT,
                "project.department must be lower-case letters");
        Project member = client.createProject(Project.newBuilder().setName("infra").setDepartment("platform").build());
        assertThat(member.getDepartment()).isEqualTo("platform");
    }

    @Test
    void healthServiceAndReflectionAreOn()
            throws Exception
    {
        ManagedChannel channel = Grpc.newChannelBuilder(scheduler.target(), InsecureChannelCredentials.create()).build();
        try {
            // health needs no token (probes have none); reflection needs one like every other method
            HealthCheckResponse health = HealthGrpc.newBlockingStub(channel).check(HealthCheckRequest.getDefaultInstance());
            assertThat(health.getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);

            CompletableFuture<List<String>> services = new CompletableFuture<>();
            StreamObserver<ServerReflectionRequest> requests = ServerReflectionGrpc.newStub(client.channel()).serverReflectionInfo(new StreamObserver<>()
            {
                @Override
                public void onNext(ServerReflectionResponse response)
                {
                    services.complete(response.getListServicesResponse().getServiceList().stream().map(ServiceResponse::getName).toList());
                }

                @Override
                public void onError(Throwable t)
                {
                    services.completeExceptionally(t);
                }

                @Override
                public void onCompleted() {}
            });
            requests.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
            assertThat(services.get(10, TimeUnit.SECONDS)).contains("tranche.v1.ExperimentService", "tranche.v1.AdminService", "grpc.health.v1.Health");
            requests.onCompleted();
        }
        finally {
            channel.shutdownNow();
        }
    }

    @Test
    void httpHealthEndpointAnswers()
            throws Exception
    {
        HttpResponse<String> response = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + scheduler.httpPort() + "/healthz")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo("ok\n");
        HttpResponse<String> missing = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + scheduler.httpPort() + "/../etc/passwd")).build(),
                HttpResponse.BodyHandlers.ofString());
        // Jetty refuses the path outright (400); either way nothing outside the web root is served
        assertThat(missing.statusCode()).isIn(400, 404);
        assertThat(missing.body()).doesNotContain("root:");
    }

    @Test
    void usageShowsAMemberOnlyItsProjectsAndNamesBadRequests()
    {
        client.createProject(Project.newBuilder().setName("usage-a").build());
        client.createProject(Project.newBuilder().setName("usage-b").build());
        client.submit(Specs.named("waits", "usage-a"));
        scheduler.server().sampleUsage();
        double asked = dev.tranche.scheduler.wire.ExperimentSpecs.fromRequest(Specs.named("waits", "usage-a")).requestedMilli() / 1000.0;
        assertThat(asked).isPositive();
        GetUsageResponse all = client.usage(GetUsageRequest.newBuilder().setProject("usage-a").build());
        assertThat(all.getProjectsList()).last().satisfies(sample -> {
            assertThat(sample.getPending()).isEqualTo(1);
            assertThat(sample.getPendingGpus()).isEqualTo(asked);
        });
        // usage-a deserves nothing: no hour where it asked for GPUs it deserved, so no fairness to report
        assertThat(all.getFairnessList()).isEmpty();
        assertThat(all.getMeanFairness()).isEqualTo(1.0);
        assertThat(client.usage(GetUsageRequest.getDefaultInstance()).getProjectsList()).extracting(ProjectUsageSample::getProject)
                .contains("usage-a", "usage-b", "default");
        try (TrancheClient member = scheduler.client(scheduler.token(Role.MEMBER, "usage-a"))) {
            GetUsageResponse mine = member.usage(GetUsageRequest.getDefaultInstance());
            assertThat(mine.getProjectsList()).isNotEmpty().extracting(ProjectUsageSample::getProject).containsOnly("usage-a");
            assertThat(mine.getClusterList()).as("the cluster as a whole is everyone's").isNotEmpty();
            assertStatus(() -> member.usage(GetUsageRequest.newBuilder().setProject("usage-b").build()), Status.Code.PERMISSION_DENIED,
                    "this token may not read project usage-b");
        }
        assertStatus(() -> client.usage(GetUsageRequest.newBuilder().setDays(91).build()), Status.Code.INVALID_ARGUMENT,
                "days must be between 1 and 90 (0 means 7): got 91");
        assertStatus(() -> client.usage(GetUsageRequest.newBuilder().setProject("nosuch").build()), Status.Code.NOT_FOUND, "project nosuch does not exist");
    }

    private static void assertStatus(Runnable call, Status.Code code, String message)
    {
        assertThatThrownBy(call::run)
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(code);
                    assertThat(e.getStatus().getDescription()).contains(message);
                });
    }
}
